import Datasets
import Wire

/// The one definition of what a `PipelineTask` may hold: the spec reader takes its ranges
/// and choices, and a worker checks every task from the network against them before it
/// builds anything (so no payload reaches a precondition or an allocation the size of the
/// machine).
enum PipelineTaskRules {
    static let models = ["mlp", "minilm"]
    static let activations = ["relu", "gelu", "tanh"]
    static let optimizers = OptimizerChoice.names
    static let schedules = PipelineSchedule.allCases.map(\.rawValue)
    static let stages = 1...16
    static let replicas = 1...16
    static let members = 1...64
    static let microBatches = 1...1024
    static let batchSize = 1...65536
    static let epochs = 1...1000
    static let maxSteps = 0...100_000_000
    static let hiddenWidth = 1...16384
    static let hiddenLayers = 1...128
    static let maxTokens = 8...512
    static let trainLimit = 0...100_000_000
    static let checkpointEvery = 0...100_000_000
    /// And without checkpoints: what every member allocates (the whole model) stays far
    /// below a worker's memory.
    static let maximumMLPParameters = 64_000_000
    static let textTasks = LabeledText.catalog
    private static let rule = TaskRule(subject: "pipeline task")

    /// Checks every field that does not need the model built.
    static func validate(_ task: Orrery_V1_Workloads_PipelineTask) throws(TaskError) {
        try rule.choice("model", task.model, models)
        try rule.choice("dataset", task.dataset, task.model == "mlp" ? DatasetCatalog.names : textTasks)
        try rule.choice("schedule", task.schedule, schedules)
        try rule.choice("optimizer", task.optimizer, optimizers)
        try rule.range("stages", Int(task.stages), stages)
        try rule.range("replicas", Int(task.replicas), replicas)
        try rule.range("stages × replicas", Int(task.stages) * Int(task.replicas), members)
        try rule.range("micro_batches", Int(task.microBatches), microBatches)
        try rule.range("batch_size", Int(task.batchSize), batchSize)
        try rule.range("epochs", Int(task.epochs), epochs)
        try rule.range("max_steps", Int(task.maxSteps), maxSteps)
        try rule.range("train_limit", Int(task.trainLimit), trainLimit)
        try rule.range("test_limit", Int(task.testLimit), trainLimit)
        try rule.range("checkpoint_every", Int(task.checkpointEvery), checkpointEvery)
        guard Int(task.batchSize) / Int(task.replicas) >= Int(task.microBatches) else {
            throw rule.fail("batch_size \(task.batchSize) over \(task.replicas) replica(s) leaves fewer examples than micro_batches (\(task.microBatches))")
        }
        guard task.learningRate.isFinite, task.learningRate > 0 else { throw rule.fail("learning_rate must be positive, got \(task.learningRate)") }
        for (field, value) in [("weight_decay", task.weightDecay), ("momentum", task.momentum)] where !(value.isFinite && value >= 0) {
            throw rule.fail("\(field) must be 0 or more, got \(value)")
        }
        if !task.unitsPerStage.isEmpty {
            try rule.count("units_per_stage", task.unitsPerStage.count, Int(task.stages)...Int(task.stages))
            for (index, units) in task.unitsPerStage.enumerated() { try rule.range("units_per_stage[\(index)]", Int(units), 1...256) }
        }
        if task.model == "mlp" {
            try rule.choice("activation", task.activation, activations)
            try rule.count("hidden", task.hidden.count, hiddenLayers)
            for (index, width) in task.hidden.enumerated() { try rule.range("hidden[\(index)]", Int(width), hiddenWidth) }
        } else {
            try rule.range("max_tokens", Int(task.maxTokens), maxTokens)
        }
    }

    /// Units the model has: the MLP one per layer, MiniLM its six layers plus embedding
    /// and head.
    static func unitCount(_ task: Orrery_V1_Workloads_PipelineTask) -> Int {
        task.model == "mlp" ? task.hidden.count + 1 : 8
    }

    /// Checks what depends on the model's shape: the partition covers every unit, each
    /// stage has a unit, and an MLP is within its parameter limit.
    static func validateShape(_ task: Orrery_V1_Workloads_PipelineTask, features: Int?, classes: Int?) throws(TaskError) {
        let units = unitCount(task)
        guard Int(task.stages) <= units else { throw rule.fail("\(task.stages) stages of a model with \(units) units") }
        if !task.unitsPerStage.isEmpty, task.unitsPerStage.reduce(0, +) != UInt32(units) {
            throw rule.fail("units_per_stage \(task.unitsPerStage) sums to \(task.unitsPerStage.reduce(0, +)); the \(task.model) has \(units) units")
        }
        if task.model == "mlp", let features, let classes {
            let sizes = [features] + task.hidden.map(Int.init) + [classes]
            let parameters = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
            guard parameters <= maximumMLPParameters else {
                throw rule.fail("the MLP has \(parameters) parameters; at most \(maximumMLPParameters)")
            }
        }
    }
}
