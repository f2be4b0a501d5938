import Datasets
import Wire

/// Reads and checks the `prompt-tune` section of a job spec (see `PromptTuneWorkload` for
/// the fields) into the tasks it plans: one per (problem, seed, variant), or one
/// meta-training task. Data and models are read by the workers, which check them again.
enum PromptTuneSpec {
    typealias Rules = PromptTuneRules

    /// A method with its initialization and any per-variant overrides.
    struct Variant {
        var name: String
        var method: String
        var initialization = Orrery_V1_Workloads_PromptInitialization()
        var lr: Float?
        var steps: UInt32?
        /// One prompt trained on every problem at once (multi-task), one task per seed.
        var joint = false
        /// Trained on the teacher's logits for unlabeled texts instead of the K-shot labels.
        var distill = false
        /// MiniLM pruned before tuning: fractions of heads and feed-forward neurons kept (0: all).
        var pruneHeads: Float = 0
        var pruneFeedForward: Float = 0
        /// Method discrete-search: what it chooses among.
        var discreteSearch: Orrery_V1_Workloads_DiscreteSearchSpace?
    }

    static func read(_ section: SpecMapping) throws(SpecError) -> [Orrery_V1_Workloads_PromptTuneTask] {
        var base = Orrery_V1_Workloads_PromptTuneTask()
        base.model = try section.required("model").choice(Rules.models)
        base.modelSha256 = PromptScorer(rawValue: base.model)!.pinnedSHA256
        base.template = try section.optional("template")?.string() ?? "{text}"
        if !base.template.contains("{text}") { throw section.optional("template")!.error("must contain {text}") }
        base.promptLength = UInt32(try section.optional("prompt_length")?.int(in: Rules.promptLength) ?? 8)
        base.steps = UInt32(try section.optional("steps")?.int(in: Rules.steps) ?? 30)
        base.batch = UInt32(try section.optional("batch")?.int(in: Rules.batch) ?? 16)
        base.microBatch = UInt32(try section.optional("micro_batch")?.int(in: 1...Int(base.batch)) ?? Int(min(4, base.batch)))
        base.lr = Float(try section.optional("lr")?.double(in: 1e-9...1e3) ?? 0.003)
        base.maxTextTokens = UInt32(try section.optional("max_text_tokens")?.int(in: Rules.maxTextTokens) ?? 128)
        base.loraRank = UInt32(try section.optional("lora_rank")?.int(in: Rules.loraRank) ?? 8)
        base.loraAlpha = Float(try section.optional("lora_alpha")?.double(in: 1e-6...1e6) ?? 16)
        base.reparameterizationHidden = UInt32(try section.optional("reparameterization_hidden")?.int(in: Rules.reparameterizationHidden) ?? 256)
        (base.workersMin, base.workersMax) = try GangSpec.parse(section.optional("workers"), allowed: Rules.workers)
        base.checkpointEvery = UInt32(try section.optional("checkpoint_every")?.int(in: Rules.checkpointEvery) ?? 0)
        base.gradientCheckpointing = try section.optional("gradient_checkpointing")?.bool() ?? false
        base.int8 = try section.optional("int8")?.bool() ?? false
        let save = try section.optional("save")?.string() ?? ""
        let seeds = try readSeeds(section)

        if let metaNode = section.optional("meta") {
            var task = base
            task.method = "soft-prompt"
            task.init_p = try readInitialization(section.optional("init"), defaultKind: "vocabulary")
            task.meta = try readMeta(metaNode.mapping(), base: base)
            task.seed = seeds[0]
            task.savePath = save
            task.variant = "meta-\(task.meta.algorithm)"
            if seeds.count > 1 { throw section.optional("seeds")!.error("a meta-training job has one seed") }
            try check(task, at: metaNode)
            return [task]
        }

        let problems = try readProblems(section)
        let variants = try readVariants(section, base: base)
        var tasks: [Orrery_V1_Workloads_PromptTuneTask] = []
        var distillation: Orrery_V1_Workloads_Distillation?
        if let teacherNode = section.optional("teacher") {
            guard problems.count == 1, problems[0].classSplit.isEmpty else { throw teacherNode.error("a teacher labels the texts of one named task (task: ...)") }
            guard variants.contains(where: \.distill) else { throw teacherNode.error("no variant learns from the teacher; mark one with distill: true") }
            let teacher = try readTeacher(teacherNode.mapping(), base: base, problem: problems[0], seed: seeds[0])
            try check(teacher, at: teacherNode)
            tasks.append(teacher)
            distillation = teacher.distill
        } else if let student = variants.first(where: \.distill) {
            throw (section.optional("variants") ?? section.node).error("variant \(student.name) learns from a teacher, but the spec has no teacher section")
        }
        for variant in variants where variant.joint {
            guard problems.count >= 2 else { throw (section.optional("variants") ?? section.node).error("a joint variant needs two or more tasks (tasks: [...])") }
            for seed in seeds {
                var task = base
                task.joint = problems
                task.seed = seed
                (task.method, task.variant, task.init_p) = (variant.method, variant.name, variant.initialization)
                if let lr = variant.lr { task.lr = lr }
                if let steps = variant.steps { task.steps = steps }
                if !save.isEmpty { task.savePath = "\(save)/joint-\(variant.name.replacingOccurrences(of: "/", with: "-"))-s\(seed).safetensors" }
                try check(task, at: section.node)
                tasks.append(task)
            }
        }
        for (problemIndex, problem) in problems.enumerated() {
            for seed in seeds {
                for variant in variants where !variant.joint {
                    var task = base
                    task.problem = problem
                    // A drawn problem gets fresh examples per seed; a named task keeps prompt search's split.
                    if !problem.classSplit.isEmpty { task.problem.splitSeed = problem.draw &* 1_000_003 &+ seed }
                    task.seed = seed
                    task.method = variant.method
                    task.variant = variant.name
                    task.init_p = variant.initialization
                    if variant.distill, let distillation { task.distill = distillation }
                    (task.pruneHeads, task.pruneFeedForward) = (variant.pruneHeads, variant.pruneFeedForward)
                    if let lr = variant.lr { task.lr = lr }
                    if let steps = variant.steps { task.steps = steps }
                    if let space = variant.discreteSearch { task.discreteSearch = space }
                    if !save.isEmpty && !Rules.untrained.contains(variant.method) {
                        task.savePath = "\(save)/\(problemIndex)-\(variant.name.replacingOccurrences(of: "/", with: "-"))-s\(seed).safetensors"
                    }
                    try check(task, at: section.node)
                    tasks.append(task)
                }
            }
        }
        return tasks
    }

    /// The `teacher` section: the model, prompt and verbalizers whose logits on `unlabeled`
    /// texts of the problem's training part the distilled variants learn from (the first
    /// task of the job, planned before them).
    private static func readTeacher(
        _ fields: SpecMapping, base: Orrery_V1_Workloads_PromptTuneTask, problem: Orrery_V1_Workloads_TextProblem, seed: UInt64
    ) throws(SpecError) -> Orrery_V1_Workloads_PromptTuneTask {
        var teacher = base
        teacher.model = try fields.optional("model")?.choice(Rules.models) ?? PromptScorer.smollm2.rawValue
        teacher.modelSha256 = PromptScorer(rawValue: teacher.model)!.pinnedSHA256
        teacher.template = try fields.optional("template")?.string() ?? "{text}"
        if !teacher.template.contains("{text}") { throw fields.optional("template")!.error("must contain {text}") }
        teacher.problem = problem
        teacher.problem.descriptions = try fields.optional("descriptions")?.list(maximumItems: 64).map { (node) throws(SpecError) in try node.string() } ?? []
        if let path = try fields.optional("prompt")?.string() {
            teacher.init_p.kind = "file"
            teacher.init_p.path = path
            teacher.promptLength = UInt32(try fields.optional("prompt_length")?.int(in: Rules.promptLength) ?? Int(base.promptLength))
        }
        teacher.maxTextTokens = UInt32(try fields.optional("max_text_tokens")?.int(in: Rules.maxTextTokens) ?? Int(base.maxTextTokens))
        teacher.distill.unlabeled = UInt32(try fields.optional("unlabeled")?.int(in: Rules.unlabeled) ?? 1000)
        teacher.distill.temperature = Float(try fields.optional("temperature")?.double(in: Double(Rules.temperature.lowerBound)...Double(Rules.temperature.upperBound)) ?? 2)
        teacher.distill.alpha = Float(try fields.optional("alpha")?.double(in: 0...1) ?? 0.5)
        try fields.finish()
        (teacher.method, teacher.variant, teacher.seed, teacher.int8, teacher.savePath) = ("teacher", "teacher", seed, false, "")
        return teacher
    }

    /// The task rules, reported at the spec's field.
    /// A student's teacher logits arrive once the teacher has run: a stand-in takes their place.
    private static func check(_ task: Orrery_V1_Workloads_PromptTuneTask, at node: SpecNode) throws(SpecError) {
        var probe = task
        if task.hasDistill && task.method != "teacher" { probe.distill.teacherLogits = [0] }
        do { try Rules.validate(probe) } catch { throw node.error(error.message) }
    }

    private static func readSeeds(_ section: SpecMapping) throws(SpecError) -> [UInt64] {
        if let node = section.optional("seeds") {
            let seeds = try node.list(maximumItems: 100).map { (item) throws(SpecError) in UInt64(try item.int(in: 0...Int.max)) }
            guard !seeds.isEmpty, Set(seeds).count == seeds.count else { throw node.error("needs one or more different seeds") }
            if section.optional("seed") != nil { throw node.error("give seed or seeds, not both") }
            return seeds
        }
        return [UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1)]
    }

    /// `task` (one problem, the whole task or some `classes`), `tasks` (several, each a
    /// mapping with `task` and optional `classes` and `descriptions`) or `problems` (N-way
    /// problems drawn from a class split of wordnet-glosses).
    private static func readProblems(_ section: SpecMapping) throws(SpecError) -> [Orrery_V1_Workloads_TextProblem] {
        let shots = UInt32(try section.optional("shots")?.int(in: Rules.shots) ?? 16)
        let test = UInt32(try section.optional("test")?.int(in: Rules.test) ?? 500)
        if let node = section.optional("tasks") {
            if section.optional("task") != nil || section.optional("problems") != nil { throw node.error("give one of task, tasks or problems") }
            let problems = try node.list(maximumItems: Rules.jointProblems.upperBound).map { (item) throws(SpecError) in
                var problem = try readProblem(item.mapping())
                (problem.shots, problem.test) = (shots, test)
                return problem
            }
            guard !problems.isEmpty else { throw node.error("needs at least one task") }
            return problems
        }
        if let node = section.optional("problems") {
            if section.optional("task") != nil { throw node.error("give task or problems, not both") }
            let fields = try node.mapping()
            var problem = Orrery_V1_Workloads_TextProblem()
            problem.task = try fields.required("task").choice(["wordnet-glosses"])
            problem.classSplit = try fields.required("class_split").choice(PromptProblem.classSplits)
            problem.ways = UInt32(try fields.required("ways").int(in: 2...Rules.ways.upperBound))
            let count = try fields.required("count").int(in: 1...10_000)
            try fields.finish()
            problem.shots = shots
            problem.test = test
            return (0..<count).map { index in
                var drawn = problem
                drawn.draw = 0xD2A3_0000 &+ UInt64(index)
                return drawn
            }
        }
        var problem = try readProblem(section, finish: false)
        problem.shots = shots
        problem.test = test
        return [problem]
    }

    /// `task`, `classes` and `descriptions` of one named problem.
    private static func readProblem(_ fields: SpecMapping, finish: Bool = true) throws(SpecError) -> Orrery_V1_Workloads_TextProblem {
        var problem = Orrery_V1_Workloads_TextProblem()
        problem.task = try fields.required("task").choice(LabeledText.catalog)
        problem.classes = try fields.optional("classes")?.list(maximumItems: 64).map { (node) throws(SpecError) in try node.string() } ?? []
        problem.descriptions = try fields.optional("descriptions")?.list(maximumItems: 64).map { (node) throws(SpecError) in try node.string() } ?? []
        if finish { try fields.finish() }
        return problem
    }

    /// `variants`: each `method`, `method/init`, or a mapping with `method`, `init`,
    /// `text`, `path`, `lr`, `steps` and `name`.
    private static func readVariants(_ section: SpecMapping, base: Orrery_V1_Workloads_PromptTuneTask) throws(SpecError) -> [Variant] {
        let node = try section.required("variants")
        var variants: [Variant] = []
        for item in try node.list(maximumItems: 32) {
            var variant: Variant
            if let fields = try? item.mapping() {
                let method = try fields.required("method").choice(Rules.variantMethods)
                variant = Variant(name: method, method: method)
                if Rules.promptMethods.contains(method) {
                    variant.initialization = try readInitialization(fields, defaultKind: "random")
                    variant.name += "/" + variant.initialization.kind
                } else if let stray = ["init", "text", "path"].compactMap(fields.optional).first {
                    throw stray.error("\(method) has no prompt to initialize")
                }
                variant.joint = try fields.optional("joint")?.bool() ?? false
                variant.distill = try fields.optional("distill")?.bool() ?? false
                if variant.distill {
                    if variant.joint { throw fields.optional("distill")!.error("a distilled variant learns one task") }
                    if Rules.untrained.contains(method) { throw fields.optional("distill")!.error("\(method) trains nothing to distill into") }
                    variant.name += "/distilled"
                }
                if let prune = fields.optional("prune") {
                    let amounts = try prune.mapping()
                    variant.pruneHeads = Float(try amounts.optional("heads")?.double(in: 0.001...1) ?? 0)
                    variant.pruneFeedForward = Float(try amounts.optional("feed_forward")?.double(in: 0.001...1) ?? 0)
                    try amounts.finish()
                    if variant.joint { throw prune.error("a joint variant shares one model copy; prune a single-task variant") }
                    variant.name += String(
                        format: "/pruned-h%.0f-f%.0f", 100 * Double(variant.pruneHeads == 0 ? 1 : variant.pruneHeads),
                        100 * Double(variant.pruneFeedForward == 0 ? 1 : variant.pruneFeedForward))
                }
                if variant.joint {
                    guard Rules.promptMethods.contains(method) else { throw fields.optional("joint")!.error("\(method) cannot share its parameters across tasks") }
                    variant.name += "/joint"
                }
                if method == "discrete-search" {
                    variant.discreteSearch = try readDiscreteSearch(fields, at: item, base: base)
                } else if let stray = ["templates", "descriptions", "prototypes"].compactMap(fields.optional).first {
                    throw stray.error("only discrete-search chooses among templates, descriptions and prototypes")
                }
                variant.lr = try fields.optional("lr").map { (node) throws(SpecError) in Float(try node.double(in: 1e-9...1e3)) }
                variant.steps = try fields.optional("steps").map { (node) throws(SpecError) in UInt32(try node.int(in: Rules.steps)) }
                if let name = try fields.optional("name")?.string(maximumBytes: 64) { variant.name = name }
                try fields.finish()
            } else {
                let parts = try item.string(maximumBytes: 64).split(separator: "/", maxSplits: 1).map(String.init)
                guard Rules.variantMethods.contains(parts[0]) else {
                    throw item.error("unknown method '\(parts[0])'; known: \(Rules.variantMethods.joined(separator: ", "))")
                }
                variant = Variant(name: parts[0], method: parts[0])
                if parts[0] == "discrete-search" { variant.discreteSearch = try readDiscreteSearch(nil, at: item, base: base) }
                if Rules.promptMethods.contains(parts[0]) {
                    variant.initialization.kind = parts.count > 1 ? parts[1] : "random"
                    guard ["random", "vocabulary"].contains(variant.initialization.kind) else {
                        throw item.error("init '\(variant.initialization.kind)' needs a text or path: write it as a mapping")
                    }
                    variant.name += "/" + variant.initialization.kind
                } else if parts.count > 1 {
                    throw item.error("\(parts[0]) has no prompt to initialize")
                }
            }
            if variants.contains(where: { $0.name == variant.name }) { throw item.error("two variants are named '\(variant.name)'; give one a name") }
            variants.append(variant)
        }
        guard !variants.isEmpty else { throw node.error("needs at least one variant") }
        return variants
    }

    /// A discrete-search variant's `templates` (default: the job's template), `descriptions`
    /// (patterns; default "{description}", the untuned prompt's) and `prototypes` (default
    /// [false, true] for minilm, [false] for smollm2).
    private static func readDiscreteSearch(
        _ fields: SpecMapping?, at node: SpecNode, base: Orrery_V1_Workloads_PromptTuneTask
    ) throws(SpecError) -> Orrery_V1_Workloads_DiscreteSearchSpace {
        func strings(_ key: String) throws(SpecError) -> [String]? {
            guard let list = fields?.optional(key) else { return nil }
            let items = try list.list(maximumItems: Rules.searchChoices.upperBound).map { (item) throws(SpecError) in try item.string() }
            guard !items.isEmpty, Set(items).count == items.count else { throw list.error("needs one or more different entries") }
            return items
        }
        var space = Orrery_V1_Workloads_DiscreteSearchSpace()
        space.templates = try strings("templates") ?? [base.template]
        space.descriptions = try strings("descriptions") ?? ["{description}"]
        if let list = fields?.optional("prototypes") {
            space.prototypes = try list.list(maximumItems: 2).map { (item) throws(SpecError) in try item.bool() }
        } else {
            space.prototypes = base.model == PromptScorer.minilm.rawValue ? [false, true] : [false]
        }
        do { try Rules.validate(space, model: base.model) } catch { throw node.error(error.message) }
        return space
    }

    /// `init` as a kind, or the fields `init` / `text` / `path` of a variant mapping, or
    /// a mapping `{kind, text, path}`.
    private static func readInitialization(_ fields: SpecMapping, defaultKind: String) throws(SpecError) -> Orrery_V1_Workloads_PromptInitialization {
        var initialization = Orrery_V1_Workloads_PromptInitialization()
        initialization.kind = try fields.optional("init")?.choice(PromptInitializer.kinds) ?? defaultKind
        initialization.text = try fields.optional("text")?.string() ?? ""
        initialization.path = try fields.optional("path")?.string() ?? ""
        return initialization
    }

    private static func readInitialization(_ node: SpecNode?, defaultKind: String) throws(SpecError) -> Orrery_V1_Workloads_PromptInitialization {
        guard let node else {
            var initialization = Orrery_V1_Workloads_PromptInitialization()
            initialization.kind = defaultKind
            return initialization
        }
        if let fields = try? node.mapping() {
            var initialization = Orrery_V1_Workloads_PromptInitialization()
            initialization.kind = try fields.required("kind").choice(PromptInitializer.kinds)
            initialization.text = try fields.optional("text")?.string() ?? ""
            initialization.path = try fields.optional("path")?.string() ?? ""
            try fields.finish()
            return initialization
        }
        var initialization = Orrery_V1_Workloads_PromptInitialization()
        initialization.kind = try node.choice(PromptInitializer.kinds)
        return initialization
    }

    private static func readMeta(_ fields: SpecMapping, base: Orrery_V1_Workloads_PromptTuneTask) throws(SpecError) -> Orrery_V1_Workloads_PromptMetaTraining {
        var meta = Orrery_V1_Workloads_PromptMetaTraining()
        meta.algorithm = try fields.optional("algorithm")?.choice(Rules.metaAlgorithms) ?? "reptile"
        let sourcesNode = try fields.required("sources")
        meta.sources = try sourcesNode.list(maximumItems: Rules.sources.upperBound).map { (item) throws(SpecError) in
            let source = try item.mapping()
            var problem = Orrery_V1_Workloads_TextProblem()
            problem.task = try source.required("task").choice(LabeledText.catalog)
            problem.classSplit = try source.optional("class_split")?.choice(PromptProblem.classSplits) ?? ""
            problem.classes = try source.optional("classes")?.list(maximumItems: 64).map { (node) throws(SpecError) in try node.string() } ?? []
            try source.finish()
            return problem
        }
        if meta.sources.isEmpty { throw sourcesNode.error("needs at least one source") }
        meta.ways = UInt32(try fields.optional("ways")?.int(in: Rules.metaWays) ?? 4)
        meta.shots = UInt32(try fields.optional("shots")?.int(in: Rules.shots) ?? 4)
        meta.queries = UInt32(try fields.optional("queries")?.int(in: Rules.queries) ?? 8)
        meta.innerSteps = UInt32(try fields.optional("inner_steps")?.int(in: Rules.innerSteps) ?? Int(base.steps))
        meta.innerLr = Float(try fields.optional("inner_lr")?.double(in: 1e-9...1e3) ?? Double(base.lr))
        meta.outerLr = Float(try fields.optional("outer_lr")?.double(in: 1e-9...1e3) ?? 0.5)
        meta.metaBatch = UInt32(try fields.optional("meta_batch")?.int(in: Rules.metaBatch) ?? 4)
        meta.metaSteps = UInt32(try fields.optional("meta_steps")?.int(in: Rules.metaSteps) ?? 200)
        try fields.finish()
        return meta
    }
}
