import Datasets
import Search
import Wire

/// What a `CompressTask` may hold, checked by the executor on every task from the network
/// before a model is built (the spec parser keeps to the same limits).
enum CompressTaskRules {
    static let methods = ["base", "int8", "magnitude", "structured", "distill", "student"]
    /// Methods that start from the trained base model.
    static let fromBase: Set<String> = ["int8", "magnitude", "structured", "distill"]
    static let epochs = 1...1000
    static let rounds = 1...20
    static let finetuneEpochs = 0...100
    static let trainLimit = 0...100_000_000
    static let latencyRuns = 1...10_000
    static let maximumSettings = 64
    /// Base weights travel in the payload: bounded like a NAS checkpoint.
    static let maximumWeightBytes = 32 << 20
    private static let rule = TaskRule(subject: "compress task")

    /// Checks every field; returns the base model's recipe and, for distill and student,
    /// the student's.
    static func validate(_ task: Orrery_V1_Workloads_CompressTask) throws(TaskError) -> (base: ArchitectureRecipe, student: ArchitectureRecipe?) {
        try rule.choice("method", task.method, methods)
        try rule.choice("dataset", task.dataset, DatasetCatalog.names)
        try rule.range("latency_runs", Int(task.latencyRuns), latencyRuns)
        try rule.range("train_limit", Int(task.trainLimit), trainLimit)
        try rule.count("base settings", task.baseSettings.count, 1...maximumSettings)
        guard let (shape, classes) = DatasetCatalog.shape(of: task.dataset) else { throw rule.fail("unknown data set") }
        let base = try ArchitectureRecipe(task.baseSettings.mapValues { ParameterValue(parsing: $0) }, imageShape: shape, classes: classes, subject: "compress task base")
        if fromBase.contains(task.method) {
            guard !task.baseWeights.isEmpty else { throw rule.fail("\(task.method) needs the trained base model's weights") }
            guard task.baseWeights.count <= maximumWeightBytes else {
                throw rule.fail("base weights of \(task.baseWeights.count) bytes exceed \(maximumWeightBytes)")
            }
        } else if !task.baseWeights.isEmpty {
            throw rule.fail("\(task.method) trains from scratch; it takes no base weights")
        }
        switch task.method {
        case "base", "student", "distill": try rule.range("epochs", Int(task.epochs), epochs)
        case "magnitude":
            guard task.amount > 0, task.amount < 1 else { throw rule.fail("magnitude amount (the fraction pruned) must be in (0, 1), got \(task.amount)") }
        case "structured":
            guard task.amount > 0, task.amount < 1 else {
                throw rule.fail("structured amount (the fraction of neurons and channels kept) must be in (0, 1), got \(task.amount)")
            }
            // Units lie between two linear layers, or after a plain (not residual) convolution.
            let architecture = base.architecture
            guard !architecture.hidden.isEmpty || (architecture.family == .cnn && !architecture.residual) else {
                throw rule.fail("structured pruning removes hidden neurons and convolution channels; this base has none (an MLP without hidden layers, or a residual CNN without a head)")
            }
        default: break
        }
        if ["magnitude", "structured"].contains(task.method) {
            try rule.range("rounds", Int(task.rounds), rounds)
            try rule.range("finetune_epochs", Int(task.finetuneEpochs), finetuneEpochs)
            guard task.finetuneLearningRate >= 0, task.finetuneLearningRate <= 1 else {
                throw rule.fail("finetune_learning_rate must be in [0, 1], got \(task.finetuneLearningRate)")
            }
        }
        guard ["distill", "student"].contains(task.method) else {
            if !task.studentSettings.isEmpty { throw rule.fail("\(task.method) has no student") }
            return (base, nil)
        }
        try rule.count("student settings", task.studentSettings.count, 1...maximumSettings)
        let student = try ArchitectureRecipe(task.studentSettings.mapValues { ParameterValue(parsing: $0) }, imageShape: shape, classes: classes, subject: "compress task student")
        if task.method == "distill" {
            guard task.temperature > 0, task.temperature <= 100 else { throw rule.fail("temperature must be in (0, 100], got \(task.temperature)") }
            guard task.alpha >= 0, task.alpha <= 1 else { throw rule.fail("alpha must be in [0, 1], got \(task.alpha)") }
        }
        return (base, student)
    }
}
