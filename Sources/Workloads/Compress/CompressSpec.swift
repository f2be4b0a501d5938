import Datasets
import Foundation
import Search
import Wire

/// A `compress` job as read from its spec: the base model, the seeds, and one task
/// template per method (every field but the seed and the base weights filled in).
struct CompressSpec {
    var dataset: String
    var seeds: [UInt64]
    /// Templates by method, in the order the report lists them.
    var methods: [Orrery_V1_Workloads_CompressTask]

    static let maximumSeeds = 20

    static func read(_ section: SpecMapping) throws(SpecError) -> CompressSpec {
        var template = Orrery_V1_Workloads_CompressTask()
        template.dataset = try section.required("dataset").choice(DatasetCatalog.names)
        let baseNode = try section.required("base")
        template.baseSettings = try ArchitectureRecipe.settings(from: try baseNode.mapping(), allowTraining: true).mapValues(\.description)
        template.epochs = UInt32(try section.optional("epochs")?.int(in: CompressTaskRules.epochs) ?? 5)
        template.trainLimit = UInt32(try section.optional("train_limit")?.int(in: CompressTaskRules.trainLimit) ?? 0)
        template.latencyRuns = UInt32(try section.optional("latency_runs")?.int(in: CompressTaskRules.latencyRuns) ?? 200)
        let seeds = try section.optional("seeds")?.list(maximumItems: maximumSeeds).map { (node) throws(SpecError) in UInt64(try node.int(in: 0...Int(Int32.max))) } ?? [1]
        guard !seeds.isEmpty, Set(seeds).count == seeds.count else { throw section.optional("seeds")!.error("must list distinct seeds") }
        var methods: [Orrery_V1_Workloads_CompressTask] = []
        var base = template
        base.method = "base"
        try check(base, at: baseNode)
        methods.append(base)
        let methodsNode = try section.required("methods")
        let mapping = try methodsNode.mapping()
        for name in mapping.keys {
            guard CompressTaskRules.methods.contains(name), name != "base", name != "student" else {
                throw mapping.optional(name)!.error("unknown method; known: int8, magnitude, structured, distill")
            }
            let node = mapping.optional(name)!
            let fields = try node.mapping()
            var task = template
            task.method = name
            switch name {
            case "magnitude", "structured":
                task.amount = try fields.required(name == "magnitude" ? "sparsity" : "keep").double(in: 0.001...0.999)
                task.rounds = UInt32(try fields.optional("rounds")?.int(in: CompressTaskRules.rounds) ?? 3)
                task.finetuneEpochs = UInt32(try fields.optional("finetune_epochs")?.int(in: CompressTaskRules.finetuneEpochs) ?? 1)
                task.finetuneLearningRate = try fields.optional("finetune_learning_rate")?.double(in: 0...1) ?? 0
                if name == "magnitude" { task.global = try fields.optional("global")?.bool() ?? true }
            case "distill":
                let studentNode = try fields.required("student")
                task.studentSettings = try ArchitectureRecipe.settings(from: try studentNode.mapping(), allowTraining: true).mapValues(\.description)
                task.temperature = try fields.optional("temperature")?.double(in: 0.01...100) ?? 4
                task.alpha = try fields.optional("alpha")?.double(in: 0...1) ?? 0.9
                task.epochs = UInt32(try fields.optional("epochs")?.int(in: CompressTaskRules.epochs) ?? Int(template.epochs))
                var student = task
                (student.method, student.temperature, student.alpha) = ("student", 0, 0)
                try check(student, at: studentNode)
                methods.append(task)
                methods.append(student)
                try fields.finish()
                continue
            default: break
            }
            try fields.finish()
            try check(task, at: node)
            methods.append(task)
        }
        guard methods.count > 1 else { throw methodsNode.error("lists no method") }
        try section.finish()
        return CompressSpec(dataset: template.dataset, seeds: seeds, methods: methods)
    }

    /// The worker's own rules, run on the spec before the job is accepted (with a stand-in
    /// for the base weights a compression task will carry).
    private static func check(_ task: Orrery_V1_Workloads_CompressTask, at node: SpecNode) throws(SpecError) {
        var probe = task
        if CompressTaskRules.fromBase.contains(task.method) { probe.baseWeights = Data([0]) }
        do {
            _ = try CompressTaskRules.validate(probe)
        } catch {
            throw node.error(error.message)
        }
    }
}
