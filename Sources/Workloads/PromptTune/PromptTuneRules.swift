import Collectives
import Datasets
import Runtime
import Wire

/// The one definition of what a `PromptTuneTask` may hold: the spec parser reads these
/// ranges and choices, and the executor checks every task that arrives from the network
/// against them before it loads anything.
enum PromptTuneRules {
    static let models = PromptScorer.allCases.map(\.rawValue)
    /// What a spec's variants may name.
    static let variantMethods = ["zero-shot", "soft-prompt", "p-tuning", "lora", "linear-probe", "discrete-search"]
    /// The methods that train nothing (no steps, no learning rate, nothing to save).
    static let untrained: Set<String> = ["zero-shot", "discrete-search", "teacher"]
    /// A discrete search's templates and description patterns, each.
    static let searchChoices = 1...16
    /// What a task may name: a distillation job's teacher task too.
    static let methods = variantMethods + ["teacher"]
    /// The methods that train a soft prompt and so need an initialization.
    static let promptMethods: Set<String> = ["soft-prompt", "p-tuning"]
    static let metaAlgorithms = ["reptile", "fomaml"]
    static let shots = 1...1000
    static let test = 1...100_000
    static let promptLength = 1...128
    static let steps = 0...1_000_000
    static let batch = 1...4096
    static let maxTextTokens = 1...512
    static let loraRank = 1...256
    static let reparameterizationHidden = 1...4096
    static let ways = 0...64
    static let metaWays = 2...64
    static let queries = 1...100
    static let innerSteps = 0...1000
    static let metaBatch = 1...256
    static let metaSteps = 1...10_000_000
    static let sources = 1...64
    static let jointProblems = 1...16
    static let workers = 1...Communicator.maximumExactMembers
    static let checkpointEvery = 0...10_000_000
    /// Texts a teacher labels: its logits ride in every student's payload (at most
    /// 20,000 × 64 classes, 5 MB).
    static let unlabeled = 1...20_000
    static let temperature: ClosedRange<Float> = 0.01...100
    /// Texts one forward pass holds (K-shot examples per step, an episode's support).
    static let maximumExamplesPerPass = 4096
    private static let rule = TaskRule(subject: "prompt-tune task")

    static func validate(_ task: Orrery_V1_Workloads_PromptTuneTask) throws(TaskError) {
        try rule.choice("model", task.model, models)
        try rule.choice("method", task.method, methods)
        if !task.joint.isEmpty {
            try rule.count("joint", task.joint.count, 2...jointProblems.upperBound)
            guard promptMethods.contains(task.method) else { throw rule.fail("joint tuning shares a prompt: method soft-prompt or p-tuning, not \(task.method)") }
            for (index, problem) in task.joint.enumerated() { try validate(problem, field: "joint[\(index)]", needsShots: true) }
        } else if !task.hasMeta {
            try validate(task.problem, field: "problem", needsShots: true)
        }
        try rule.range("max_text_tokens", Int(task.maxTextTokens), maxTextTokens)
        try rule.range("steps", Int(task.steps), steps)
        try rule.range("batch", Int(task.batch), batch)
        try rule.range("micro_batch", Int(task.microBatch), 1...Int(max(1, task.batch)))
        try rule.range("checkpoint_every", Int(task.checkpointEvery), checkpointEvery)
        if task.workersMax > 0 {
            try rule.range("workers_min", Int(task.workersMin), workers)
            try rule.range("workers_max", Int(task.workersMax), Int(task.workersMin)...workers.upperBound)
        }
        if !untrained.contains(task.method) { try positive("lr", task.lr) }
        if task.method == "discrete-search" { try validate(task.discreteSearch, model: task.model) } else if task.hasDiscreteSearch {
            throw rule.fail("discrete_search belongs to method discrete-search, not \(task.method)")
        }
        if promptMethods.contains(task.method) {
            try rule.range("prompt_length", Int(task.promptLength), promptLength)
            try rule.choice("init", task.init_p.kind, PromptInitializer.kinds)
            if ["search-report", "file"].contains(task.init_p.kind) && task.init_p.path.isEmpty {
                throw rule.fail("init \(task.init_p.kind) needs a path")
            }
            if task.init_p.kind == "text" && task.init_p.text.isEmpty { throw rule.fail("init text needs the text") }
        }
        if task.method == "p-tuning" { try rule.range("reparameterization_hidden", Int(task.reparameterizationHidden), reparameterizationHidden) }
        if task.method == "lora" {
            try rule.range("lora_rank", Int(task.loraRank), loraRank)
            try positive("lora_alpha", task.loraAlpha)
        }
        if task.hasMeta { try validate(task.meta, task: task) }
        if task.method == "teacher" || task.hasDistill { try validateDistillation(task) }
        if task.pruneHeads != 0 || task.pruneFeedForward != 0 {
            guard task.model == PromptScorer.minilm.rawValue, !task.hasMeta, task.method != "teacher" else {
                throw rule.fail("pruning is for a minilm tuning task")
            }
            for (field, value) in [("prune_heads", task.pruneHeads), ("prune_feed_forward", task.pruneFeedForward)] where value != 0 {
                guard value > 0, value <= 1 else { throw rule.fail("\(field) keeps a fraction in (0, 1], got \(value)") }
            }
        }
        if task.int8 {
            guard task.model == PromptScorer.minilm.rawValue, task.joint.isEmpty, !task.hasMeta, task.method != "teacher" else {
                throw rule.fail("int8 scoring is for a minilm tuning task on one problem")
            }
        }
    }

    static func validate(_ space: Orrery_V1_Workloads_DiscreteSearchSpace, model: String) throws(TaskError) {
        try rule.count("discrete_search.templates", space.templates.count, searchChoices)
        try rule.count("discrete_search.descriptions", space.descriptions.count, searchChoices)
        try rule.count("discrete_search.prototypes", space.prototypes.count, 1...2)
        if let template = space.templates.first(where: { !$0.contains("{text}") }) {
            throw rule.fail("discrete_search template '\(PrintableText.escaped(template, limit: 60))' has no {text}")
        }
        for pattern in space.descriptions {
            if let unknown = unknownPlaceholder(pattern) {
                throw rule.fail("discrete_search description '\(PrintableText.escaped(pattern, limit: 60))' has unknown placeholder \(unknown); known: \(DiscreteSearch.placeholders.joined(separator: ", "))")
            }
        }
        if Set(space.prototypes).count != space.prototypes.count { throw rule.fail("discrete_search.prototypes lists a choice twice") }
        if model == PromptScorer.smollm2.rawValue && space.prototypes.contains(true) {
            throw rule.fail("discrete_search prototypes are for minilm; smollm2 scores verbalizers (prototypes: [false])")
        }
    }

    /// The first `{word}` in `pattern` that `DiscreteSearch` does not fill.
    static func unknownPlaceholder(_ pattern: String) -> String? {
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return nil }
            let word = String(rest[open...close])
            if !DiscreteSearch.placeholders.contains(word) { return word }
            rest = rest[rest.index(after: close)...]
        }
        return nil
    }

    private static func validateDistillation(_ task: Orrery_V1_Workloads_PromptTuneTask) throws(TaskError) {
        let distill = task.distill
        guard task.hasDistill, task.joint.isEmpty, !task.hasMeta else {
            throw rule.fail("distillation needs its distill settings and one problem")
        }
        try rule.range("distill.unlabeled", Int(distill.unlabeled), unlabeled)
        if task.method == "teacher" {
            if !distill.teacherLogits.isEmpty { throw rule.fail("a teacher's task carries no teacher logits") }
            if !task.init_p.kind.isEmpty {
                guard task.init_p.kind == "file", !task.init_p.path.isEmpty else { throw rule.fail("a teacher's prompt is a file (init kind file with a path)") }
                try rule.range("prompt_length", Int(task.promptLength), promptLength)
            }
            return
        }
        guard temperature.contains(distill.temperature) else { throw rule.fail("distill.temperature must be in [0.01, 100], got \(distill.temperature)") }
        guard (0...1).contains(distill.alpha) else { throw rule.fail("distill.alpha must be in [0, 1], got \(distill.alpha)") }
        guard usable(distill.teacherLogits, unlabeled: distill.unlabeled) else {
            throw rule.fail("a student's task needs the teacher's finite logits, one row per unlabeled text (\(distill.teacherLogits.count) values)")
        }
    }

    /// Teacher logits that can be rows of `unlabeled` texts: some, finite, at most 64 a row.
    static func usable(_ logits: [Float], unlabeled: UInt32) -> Bool {
        !logits.isEmpty && logits.count <= Int(unlabeled) * ways.upperBound && logits.allSatisfy(\.isFinite)
    }

    static func validate(_ problem: Orrery_V1_Workloads_TextProblem, field: String, needsShots: Bool) throws(TaskError) {
        try rule.choice("\(field).task", problem.task, LabeledText.catalog)
        if needsShots {
            try rule.range("\(field).shots", Int(problem.shots), shots)
            try rule.range("\(field).test", Int(problem.test), test)
        }
        if !problem.classSplit.isEmpty {
            try rule.choice("\(field).class_split", problem.classSplit, PromptProblem.classSplits)
            guard problem.task == "wordnet-glosses" else { throw rule.fail("\(field).class_split applies to wordnet-glosses only") }
        }
        try rule.range("\(field).ways", Int(problem.ways), ways)
        if problem.ways == 1 { throw rule.fail("\(field).ways must be 0 (all classes) or at least 2, got 1") }
        try rule.count("\(field).classes", problem.classes.count, 0...64)
        // Each listed class once, and at least two: a class named twice would be two labels
        // for the same texts.
        if problem.classes.count == 1 || Set(problem.classes).count != problem.classes.count {
            throw rule.fail("\(field).classes must list two or more different classes")
        }
        try rule.count("\(field).descriptions", problem.descriptions.count, 0...64)
    }

    private static func validate(_ meta: Orrery_V1_Workloads_PromptMetaTraining, task: Orrery_V1_Workloads_PromptTuneTask) throws(TaskError) {
        guard task.method == "soft-prompt", task.model == PromptScorer.minilm.rawValue else {
            throw rule.fail("meta-training learns a soft prompt's initialization for minilm (method soft-prompt, model minilm)")
        }
        try rule.choice("meta.algorithm", meta.algorithm, metaAlgorithms)
        try rule.count("meta.sources", meta.sources.count, sources)
        for (index, source) in meta.sources.enumerated() { try validate(source, field: "meta.sources[\(index)]", needsShots: false) }
        try rule.range("meta.ways", Int(meta.ways), metaWays)
        try rule.range("meta.shots", Int(meta.shots), shots)
        try rule.range("meta.queries", Int(meta.queries), queries)
        try rule.range("meta.inner_steps", Int(meta.innerSteps), innerSteps)
        try rule.range("meta.meta_batch", Int(meta.metaBatch), metaBatch)
        try rule.range("meta.meta_steps", Int(meta.metaSteps), metaSteps)
        try positive("meta.inner_lr", meta.innerLr)
        try positive("meta.outer_lr", meta.outerLr)
        let examples = Int(meta.ways) * Int(meta.shots + meta.queries)
        guard examples <= maximumExamplesPerPass else {
            throw rule.fail("meta.ways × (shots + queries) is \(examples) texts an episode; at most \(maximumExamplesPerPass)")
        }
    }

    private static func positive(_ field: String, _ value: Float) throws(TaskError) {
        guard value.isFinite && value > 0 else { throw rule.fail("\(field) must be a finite positive number, got \(value)") }
    }
}
