import Datasets
import Search
import Tensor

/// Reads a `nas` section into a `NASPlan`; every error names its field and line.
enum NASSpec {
    static let strategies = NASPlan.Strategy.allCases.map(\.rawValue)
    static let maximumParameters = 64

    static func read(_ section: SpecMapping) throws(SpecError) -> NASPlan {
        let dataset = try section.required("dataset").choice(DatasetCatalog.names)
        let spaceNode = try section.required("space")
        let space = try readSpace(try spaceNode.mapping())
        let strategy = NASPlan.Strategy(rawValue: try section.optional("strategy")?.choice(strategies) ?? "random")!
        let epochs = try section.optional("epochs")?.int(in: NASTrialRules.epochs) ?? 4
        let budgetNode = try section.required("budget")
        let budget = try budgetNode.int(in: 1...1_000_000)
        guard budget >= epochs else { throw budgetNode.error("must allow one full trial: at least epochs (\(epochs))") }
        let minimumEpochs = try section.optional("min_epochs")?.int(in: 1...epochs) ?? 1
        let reduction = try section.optional("reduction")?.int(in: 2...16) ?? 3
        let population = try section.optional("population")?.int(in: 2...10_000) ?? 10
        let tournament = try section.optional("sample")?.int(in: 1...population) ?? min(3, population)
        let parallel = try section.optional("parallel")?.int(in: 1...4096) ?? 2
        let dev = try section.optional("dev")?.int(in: NASTrialRules.devExamples) ?? 5000
        if let count = DatasetCatalog.trainingCount(of: dataset), dev >= count {
            throw section.optional("dev")!.error("leaves nothing to train on: \(dataset) has \(count) training images")
        }
        var plan = NASPlan(
            dataset: dataset, space: space, strategy: strategy, budget: budget, epochs: epochs, minimumEpochs: minimumEpochs,
            reduction: reduction, population: population, tournament: tournament, parallel: parallel, devExamples: dev,
            trainLimit: try section.optional("train_limit")?.int(in: NASTrialRules.trainLimit) ?? 0,
            splitSeed: UInt64(try section.optional("split_seed")?.int(in: 0...Int.max) ?? 7),
            seed: UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1),
            schedule: try section.optional("schedule")?.choice(NASTrialRules.schedules) ?? "cosine",
            latencyRuns: try section.optional("latency_runs")?.int(in: NASTrialRules.latencyRuns) ?? 30,
            reference: NASPlan.Reference(accuracy: 0.5, parameters: 2_000_000, latencyMs: 20), final: nil)
        plan.promotionState = NASPlan.PromotionState(
            rawValue: try section.optional("promotion_state")?.choice(NASPlan.PromotionState.allCases.map(\.rawValue)) ?? "kept")!
        if let node = section.optional("reference") {
            let reference = try node.mapping()
            plan.reference.accuracy = try reference.optional("accuracy")?.double(in: 0...0.999) ?? plan.reference.accuracy
            plan.reference.parameters = try reference.optional("parameters")?.double(in: 1...1e12) ?? plan.reference.parameters
            plan.reference.latencyMs = try reference.optional("latency_ms")?.double(in: 1e-6...1e9) ?? plan.reference.latencyMs
            try reference.finish()
        }
        if let node = section.optional("final") {
            let final = try node.mapping()
            plan.final = NASPlan.Final(
                top: try final.optional("top")?.int(in: 1...100) ?? 1,
                epochs: try final.optional("epochs")?.int(in: NASTrialRules.epochs) ?? epochs,
                save: try final.optional("save")?.string())
            try final.finish()
        }
        if strategy == .evolution && plan.fullTrials <= population {
            throw budgetNode.error("gives evolution \(plan.fullTrials) trials of \(epochs) epochs: no more than its population (\(population)), so nothing would evolve")
        }
        try checkSamples(space, dataset: dataset, at: spaceNode)
        return plan
    }

    /// `name: value` (fixed), or `name: {choice: […] | int: [lo, hi] | log: [lo, hi] |
    /// uniform: [lo, hi], when: "depth >= 2" | [conditions]}`.
    static func readSpace(_ section: SpecMapping) throws(SpecError) -> SearchSpace {
        guard section.keys.count <= maximumParameters else { throw section.node.error("at most \(maximumParameters) parameters") }
        var parameters: [SearchSpace.Parameter] = []
        for name in section.keys {
            let node = section.optional(name)!
            let (domain, conditions) = try readParameter(name, node)
            for value in representatives(domain) {
                if let problem = ArchitectureRecipe.problem(name, value) { throw node.error(problem) }
            }
            parameters.append(SearchSpace.Parameter(name: name, domain: domain, conditions: conditions))
        }
        do {
            return try SearchSpace(parameters)
        } catch {
            throw section.node.error(error.message)
        }
    }

    private static func readParameter(_ name: String, _ node: SpecNode) throws(SpecError) -> (ParameterDomain, [Condition]) {
        guard (try? node.mapping()) != nil else { return (.constant(try value(node)), []) }
        let fields = try node.mapping()
        var conditions: [Condition] = []
        if let when = fields.optional("when") {
            let texts = (try? when.list(maximumItems: 16)) ?? [when]
            for text in texts {
                let written = try text.string(maximumBytes: 200)
                do {
                    conditions.append(try Condition(parsing: written))
                } catch {
                    throw text.error(error.message)
                }
            }
        }
        var domain: ParameterDomain?
        if let choice = fields.optional("choice") {
            let values = try choice.list(maximumItems: 1000).map { (item) throws(SpecError) in try value(item) }
            guard !values.isEmpty else { throw choice.error("needs at least one value") }
            guard Set(values).count == values.count else { throw choice.error("lists a value twice") }
            domain = .choice(values)
        }
        if let range = fields.optional("int") {
            let (low, high) = try bounds(range) { (node) throws(SpecError) in Double(try node.int(in: -1_000_000...1_000_000)) }
            domain = try exclusive(domain, range, .integer(Int(low)...Int(high)))
        }
        if let range = fields.optional("log") {
            let (low, high) = try bounds(range) { (node) throws(SpecError) in try node.double(in: 1e-12...1e12) }
            domain = try exclusive(domain, range, .logUniform(low...high))
        }
        if let range = fields.optional("uniform") {
            let (low, high) = try bounds(range) { (node) throws(SpecError) in try node.double() }
            domain = try exclusive(domain, range, .uniform(low...high))
        }
        try fields.finish()
        guard let domain else { throw node.error("\(name) needs one of choice, int, log or uniform (or a plain value)") }
        return (domain, conditions)
    }

    private static func exclusive(_ existing: ParameterDomain?, _ node: SpecNode, _ domain: ParameterDomain) throws(SpecError) -> ParameterDomain {
        guard existing == nil else { throw node.error("a parameter takes one of choice, int, log or uniform") }
        return domain
    }

    private static func bounds(_ node: SpecNode, _ read: (SpecNode) throws(SpecError) -> Double) throws(SpecError) -> (Double, Double) {
        let items = try node.list(maximumItems: 2)
        guard items.count == 2 else { throw node.error("expected [low, high]") }
        let (low, high) = (try read(items[0]), try read(items[1]))
        guard low <= high else { throw node.error("low \(low) is above high \(high)") }
        return (low, high)
    }

    /// A plain value: a number or a word that can live in a configuration's text form.
    private static func value(_ node: SpecNode) throws(SpecError) -> ParameterValue {
        let text = try node.string(maximumBytes: 64)
        guard !text.contains(where: { $0 == "," || $0 == "=" || $0.isWhitespace }) else {
            throw node.error("values may not contain ',', '=' or spaces")
        }
        return ParameterValue(parsing: text)
    }

    /// The values a domain's check must pass: every choice, a range's ends.
    private static func representatives(_ domain: ParameterDomain) -> [ParameterValue] {
        switch domain {
        case .choice(let values): values
        case .integer(let range): [.integer(range.lowerBound), .integer(range.upperBound)]
        case .logUniform(let range), .uniform(let range): [.real(range.lowerBound), .real(range.upperBound)]
        case .constant(let value): [value]
        }
    }

    /// Draws configurations and builds each one's recipe, so that a space with a hole
    /// (blocks up to 3 but no channels_3) or a model too large fails now, not on a worker.
    private static func checkSamples(_ space: SearchSpace, dataset: String, at node: SpecNode) throws(SpecError) {
        guard let (shape, classes) = DatasetCatalog.shape(of: dataset) else { return }
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<256 {
            let configuration = space.sample(using: &generator)
            do {
                _ = try ArchitectureRecipe(configuration.values, imageShape: shape, classes: classes, subject: "space")
            } catch {
                throw node.error("\(error.message) (for the configuration \(configuration))")
            }
        }
    }
}
