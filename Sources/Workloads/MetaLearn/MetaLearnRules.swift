import Collectives
import Datasets
import NN
import Wire

/// The one definition of what a `MetaLearnTask` may hold: the spec parser reads these
/// ranges and choices, and the executor checks every task that arrives from the network
/// against them before it builds anything.
enum MetaLearnRules {
    /// The image benchmark (Datasets) and the text ones (built here, on MiniLM).
    static let benchmarks = FewShotBenchmark.names + TextFewShotBenchmark.names
    static let models = ["mlp", "cnn"]
    static let channelWidth = 1...256
    static let convolutionBlocks = 1...4
    static let algorithms = ["maml", "meta-sgd", "fomaml", "reptile", "anil", "protonet"]
    static let ways = 2...64
    static let shots = 1...100
    static let queries = 1...100
    static let innerSteps = 0...100
    static let metaBatch = 1...256
    /// 0 evaluates the initial meta-parameters (for a residual network: the features as they
    /// are), the baseline of what meta-training adds.
    static let metaSteps = 0...10_000_000
    static let hiddenWidth = 1...4096
    static let hiddenLayers = 1...8
    static let evalEpisodes = 1...100_000
    static let evalShots = 0...16
    static let pretrainEpochs = 0...1000
    static let workers = 1...Communicator.maximumExactMembers
    static let checkpointEvery = 0...10_000_000
    static let validateEvery = 0...10_000_000
    static let validationEpisodes = 1...10_000
    /// Meta-validation scorings in one task (meta_steps / validate_every, plus step 0 and
    /// the last): each is kept in every checkpoint and in the result.
    static let maximumValidations = 10_000
    /// As `train`'s: a checkpoint (weights and Adam's two moments) must fit in one frame.
    static let maximumParameters = 4_000_000
    /// Examples in one episode (support and query over all ways): what one forward pass
    /// holds at once.
    static let maximumEpisodeExamples = 4096
    /// Floats in the convolutional network's first (largest) feature maps for one episode:
    /// 256 MiB.
    static let maximumFeatureMapValues = 1 << 26
    /// Episodes scored per task over every evaluated shot count (each method's accuracy on
    /// each comes back in the result, which must stay far below one frame).
    static let maximumScoredEpisodes = 100_000
    private static let rule = TaskRule(subject: "meta-learn task")

    static func validate(_ task: Orrery_V1_Workloads_MetaLearnTask) throws(TaskError) {
        try rule.choice("benchmark", task.benchmark, benchmarks)
        try rule.choice("algorithm", task.algorithm, algorithms)
        try rule.choice("image_size", String(task.imageSize), FewShotBenchmark.sides.map(String.init))
        try rule.range("ways", Int(task.ways), ways)
        try rule.range("shots", Int(task.shots), shots)
        try rule.range("queries", Int(task.queries), queries)
        try rule.range("inner_steps", Int(task.innerSteps), innerSteps)
        try rule.range("meta_batch", Int(task.metaBatch), metaBatch)
        try rule.range("meta_steps", Int(task.metaSteps), metaSteps)
        try rule.choice("model", task.model, models)
        if task.model == "cnn" {
            if isText(task) { throw rule.fail("model cnn needs an image benchmark; \(task.benchmark) is text") }
            try rule.count("channels", task.channels.count, convolutionBlocks)
            for (index, width) in task.channels.enumerated() { try rule.range("channels[\(index)]", Int(width), channelWidth) }
            guard Int(task.imageSize) >> task.channels.count >= 1 else {
                throw rule.fail("channels: \(task.channels.count) pooling blocks do not fit \(task.imageSize)×\(task.imageSize) images")
            }
        }
        try rule.count("hidden", task.hidden.count, hiddenLayers)
        for (index, width) in task.hidden.enumerated() { try rule.range("hidden[\(index)]", Int(width), hiddenWidth) }
        try rule.range("eval_episodes", Int(task.evalEpisodes), evalEpisodes)
        try rule.count("eval_shots", task.evalShots.count, evalShots)
        for (index, shot) in task.evalShots.enumerated() { try rule.range("eval_shots[\(index)]", Int(shot), shots) }
        try rule.range("pretrain_epochs", Int(task.pretrainEpochs), pretrainEpochs)
        try rule.range("checkpoint_every", Int(task.checkpointEvery), checkpointEvery)
        try rule.range("validate_every", Int(task.validateEvery), validateEvery)
        if task.validateEvery > 0 {
            try rule.range("validation_episodes", Int(task.validationEpisodes), validationEpisodes)
            let scorings = Int(task.metaSteps) / Int(task.validateEvery) + 2
            guard scorings <= maximumValidations else {
                throw rule.fail("meta_steps / validate_every is \(scorings - 2) meta-validation scorings; at most \(maximumValidations - 2)")
            }
        }
        if task.residual && task.model != "mlp" { throw rule.fail("residual applies to model mlp only") }
        if task.workersMax > 0 {
            try rule.range("workers_min", Int(task.workersMin), workers)
            try rule.range("workers_max", Int(task.workersMax), Int(task.workersMin)...workers.upperBound)
        }
        for (name, value) in [("inner_lr", task.innerLr), ("outer_lr", task.outerLr)] where !(value.isFinite && value > 0) {
            throw rule.fail("\(name) must be a finite positive number, got \(value)")
        }
        // The largest episode the task draws: meta-training's, or an evaluated shot count's.
        let largestShots = max(Int(task.shots), task.evalShots.map(Int.init).max() ?? 0)
        let examples = Int(task.ways) * (largestShots + Int(task.queries))
        guard examples <= maximumEpisodeExamples else {
            throw rule.fail("ways × (shots + queries) is \(examples) examples per episode; at most \(maximumEpisodeExamples)")
        }
        let scored = Int(task.evalEpisodes) * max(1, task.evalShots.count)
        guard scored <= maximumScoredEpisodes else {
            throw rule.fail("eval_episodes × eval_shots is \(scored) episodes; at most \(maximumScoredEpisodes)")
        }
        if task.model == "cnn" {
            let maps = examples * Int(task.channels.max() ?? 0) * Int(task.imageSize * task.imageSize)
            guard maps <= maximumFeatureMapValues else {
                throw rule.fail("channels: one episode's feature maps would hold \(maps) values; at most \(maximumFeatureMapValues)")
            }
        }
        if task.classDescriptions && (task.algorithm != "protonet" || !isText(task)) {
            throw rule.fail("class_descriptions applies to algorithm protonet on a text benchmark (\(TextFewShotBenchmark.names.joined(separator: ", "))) only")
        }
        // Features per example: the text benchmark's embedding width, or the image side².
        let features = isText(task) ? TextFewShotBenchmark.width : Int(task.imageSize * task.imageSize)
        let network = MetaLearnExecutor.body(task, features: features).withHead(Int(task.ways))
        let parameters = network.parameterCount
        guard parameters <= maximumParameters else {
            throw rule.fail("the model would have \(parameters) parameters; at most \(maximumParameters)")
        }
    }

    /// Whether the task's benchmark is one of MiniLM-embedded texts.
    static func isText(_ task: Orrery_V1_Workloads_MetaLearnTask) -> Bool { TextFewShotBenchmark.named(task.benchmark) != nil }

    /// The shot counts meta-test episodes are drawn with.
    static func evaluatedShots(_ task: Orrery_V1_Workloads_MetaLearnTask) -> [Int] {
        task.evalShots.isEmpty ? [Int(task.shots)] : task.evalShots.map(Int.init)
    }
}
