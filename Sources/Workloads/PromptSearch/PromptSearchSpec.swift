import Datasets

/// Reads and checks the `prompt-search` section of a job spec (see `PromptSearchWorkload`
/// for the fields). The task's data is loaded here, so that a missing file or a dev set
/// larger than the task fails before anything starts.
enum PromptSearchSpec {
    static func read(_ section: SpecMapping, dataDirectory: String) throws(SpecError) -> PromptSearchPlan {
        let taskNode = try section.required("task")
        let task = try taskNode.string()
        var data: LabeledText
        do throws(DatasetError) { data = try LabeledText.load(task, directory: dataDirectory) } catch { throw taskNode.error("\(error)") }
        if let classesNode = section.optional("classes") {
            let classes = try classesNode.list().map { node throws(SpecError) in try node.choice(data.classes) }
            guard classes.count >= 2, Set(classes).count == classes.count else {
                throw classesNode.error("needs two or more different classes of \(task)")
            }
            data = data.restricted(to: classes)
        }
        let scorer = PromptScorer(rawValue: try section.required("scorer").choice(PromptScorer.allCases.map(\.rawValue)))!
        let devNode = section.optional("dev"), testNode = section.optional("test")
        let devCount = try devNode?.int(in: 1...1_000_000) ?? 200
        let testCount = try testNode?.int(in: 1...1_000_000) ?? 400
        let poolPerClass = try section.optional("demonstration_pool")?.int(in: 0...1000) ?? 8
        let space = try readSpace(section, classes: data.classes, scorer: scorer)
        if space.demonstrationCounts.contains(where: { $0 > poolPerClass }) {
            throw (section.optional("demonstrations") ?? section.node).error(
                "asks for up to \(space.demonstrationCounts.max()!) demonstrations per class but demonstration_pool is \(poolPerClass)")
        }
        guard let (dev, pool, test) = PromptSearchSplits.parts(data, pool: poolPerClass, dev: devCount, test: testCount) else {
            let half = data.count / 2
            throw (devNode ?? testNode ?? taskNode).error(
                "\(task) has \(data.count) examples: about \(half) for dev (less the demonstration pool) and \(data.count - half) for test; ask for fewer")
        }
        let strategy = try readStrategy(section, space: space, devCount: devCount)
        let budget = try section.optional("budget")?.int(in: 1...Int(Int32.max)) ?? Int(Int32.max)
        var paraphrase: PromptSearchPlan.ParaphrasePlan?
        if let node = section.optional("paraphrase") {
            let fields = try node.mapping()
            let everyNode = fields.optional("every")
            paraphrase = .init(
                count: try fields.required("count").int(in: 1...20),
                temperature: try fields.optional("temperature")?.double(in: PromptSearchTaskRules.temperature) ?? 0.8,
                every: try everyNode?.int(in: 1...10_000))
            if let feedback = fields.optional("feedback") {
                paraphrase!.feedback = try feedback.bool()
                if paraphrase!.feedback && everyNode == nil { throw feedback.error("score-fed proposals need every: N (they read the scores so far)") }
            }
            try fields.finish()
            if let everyNode {
                guard case .evolution = strategy else {
                    throw everyNode.error("rewrites during the search need strategy: evolution (the others fix their candidates at the start)")
                }
            }
            guard space.instructions.contains(where: { !$0.isEmpty }) else {
                throw node.error("needs a non-empty instruction to paraphrase")
            }
        }
        var explain: PromptSearchPlan.ExplainPlan?
        if let node = section.optional("explain") {
            let fields = try node.mapping()
            explain = .init(
                texts: try fields.optional("texts")?.int(in: PromptSearchTaskRules.explainedTexts) ?? 8,
                steps: try fields.optional("steps")?.int(in: PromptSearchTaskRules.explainSteps) ?? 64)
            try fields.finish()
            guard explain!.texts <= test.count else { throw node.error("explains \(explain!.texts) test texts but the test split has \(test.count)") }
        }
        var plan = PromptSearchPlan(
            task: task, scorer: scorer, modelSHA256: scorer.pinnedSHA256, space: space, strategy: strategy,
            dev: dev, pool: pool, test: test, budget: budget,
            batch: try section.optional("batch")?.int(in: PromptSearchTaskRules.texts) ?? 25,
            concurrentTrials: try section.optional("concurrent_trials")?.int(in: 1...10_000) ?? 4,
            maxTextTokens: try section.optional("max_text_tokens")?.int(in: PromptSearchTaskRules.maxTextTokens) ?? 96,
            recomputePrefix: try section.optional("recompute_prefix")?.bool() ?? false,
            top: try section.optional("top")?.int(in: 1...1000) ?? 10,
            seed: UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1),
            paraphrase: paraphrase)
        plan.explain = explain
        return plan
    }

    /// The lists a candidate indexes. Defaults make the baseline: no instruction, the text
    /// alone (MiniLM) or followed by "Label:" (SmolLM2), and the class names as verbalizers.
    static func readSpace(_ section: SpecMapping, classes: [String], scorer: PromptScorer) throws(SpecError) -> PromptSpace {
        let instructions = try texts(section.optional("instructions")) ?? [""]
        let templatesNode = section.optional("templates")
        let templates = try texts(templatesNode) ?? [scorer == .minilm ? "{text}" : "{text}\nLabel:"]
        if let bad = templates.firstIndex(where: { !$0.contains("{text}") }) {
            throw templatesNode!.error("template \(bad) has no {text}")
        }
        var verbalizers = [scorer == .minilm ? classes : classes.map { " " + $0 }]
        if let node = section.optional("verbalizers") {
            verbalizers = try node.list().map { set throws(SpecError) in
                let words = try set.list().map { word throws(SpecError) in try word.string() }
                guard words.count == classes.count else {
                    throw set.error("has \(words.count) words but the task has \(classes.count) classes (\(classes.joined(separator: ", ")))")
                }
                guard Set(words).count == words.count else { throw set.error("gives two classes the same word") }
                return words
            }
            guard !verbalizers.isEmpty else { throw node.error("needs at least one set of words") }
        }
        let countsNode = section.optional("demonstrations")
        let counts = try countsNode?.list().map { node throws(SpecError) in try node.int(in: 0...64) } ?? [0]
        guard counts.first == 0, Set(counts).count == counts.count else {
            throw countsNode!.error("must start with 0 (the baseline shows no demonstrations) and not repeat a count")
        }
        let draws = try section.optional("demonstration_draws")?.int(in: 1...1000) ?? 1
        return PromptSpace(instructions: instructions, templates: templates, verbalizers: verbalizers, demonstrationCounts: counts, demonstrationDraws: counts == [0] ? 1 : draws)
    }

    static func texts(_ node: SpecNode?) throws(SpecError) -> [String]? {
        guard let node else { return nil }
        let values = try node.list().map { item throws(SpecError) in try item.text() }
        guard !values.isEmpty else { throw node.error("needs at least one entry") }
        return values
    }

    static func readStrategy(_ section: SpecMapping, space: PromptSpace, devCount: Int) throws(SpecError) -> PromptStrategy {
        let name = try section.optional("strategy")?.choice(["exhaustive", "random", "halving", "evolution"]) ?? "exhaustive"
        let countNode = section.optional("candidates")
        let count = try countNode?.int(in: 1...1_000_000)
        switch name {
        case "random":
            return .random(count: min(count ?? 16, space.size))
        case "halving":
            let minimumNode = section.optional("min_examples")
            let minimum = try minimumNode?.int(in: 1...devCount) ?? max(1, devCount / 8)
            return .halving(count: count.map { min($0, space.size) }, minimumExamples: minimum, reduction: try section.optional("reduction")?.int(in: 2...16) ?? 2)
        case "evolution":
            let population = try section.optional("population")?.int(in: 1...10_000) ?? 8
            let crossoverNode = section.optional("crossover")
            let crossover = try crossoverNode?.double() ?? 0.3
            guard (0...1).contains(crossover) else { throw crossoverNode!.error("must be in 0...1, got \(crossover)") }
            return .evolution(
                count: min(count ?? 32, space.size), population: population,
                tournament: try section.optional("tournament")?.int(in: 1...population) ?? min(3, population), crossover: crossover)
        default:
            if let countNode { throw countNode.error("exhaustive search scores every candidate; use random or halving to try fewer") }
            return .exhaustive
        }
    }
}
