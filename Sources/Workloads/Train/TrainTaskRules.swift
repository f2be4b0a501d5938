import Collectives
import Datasets
import Wire

/// The one definition of what a `TrainTask` may hold. The spec parser reads its ranges and
/// choices; the executor checks every task that arrives from the network against the same
/// rules before it builds anything, so that no value a coordinator (or anyone posing as
/// one) sends can reach a precondition, a division by zero or an allocation the size of
/// the machine.
enum TrainTaskRules {
    static let models = ["mlp", "cnn"]
    static let activations = ["relu", "gelu", "gelu_tanh", "tanh", "sigmoid"]
    static let optimizers = OptimizerChoice.names
    static let schedules = ["constant", "cosine", "step"]

    static let hiddenWidth = 1...65536
    static let hiddenLayers = 0...64
    static let channelWidth = 1...4096
    static let convolutionBlocks = 1...16
    static let batchSize = 1...65536
    static let epochs = 1...10_000
    static let warmupSteps = 0...10_000_000
    static let trainLimit = 0...100_000_000
    static let workers = 1...1024
    static let checkpointEvery = 0...100_000_000
    static let bucketElements = 1024...(1 << 28)
    /// Shards whose gradients are summed exactly; the exact all-reduce takes at most 256
    /// members.
    static let exactShards = 0...256
    /// The largest model a task may ask for, so that a mistyped or hostile spec cannot make
    /// every worker allocate without bound: 64 M parameters hold about 1 GiB with their
    /// gradients and Adam's two moments (the pipeline workload's bound). Checkpoints of
    /// that size do not fit a control frame; above `CheckpointFile.inlineLimit` the worker
    /// commits them as files.
    static let maximumParameters = 64_000_000
    private static let rule = TaskRule(subject: "train task")

    /// Checks every field that does not depend on the data set.
    static func validate(_ task: Orrery_V1_Workloads_TrainTask) throws(TaskError) {
        try rule.choice("dataset", task.dataset, DatasetCatalog.names)
        try rule.choice("model", task.model, models)
        try rule.choice("activation", task.activation, activations)
        try rule.choice("optimizer", task.optimizer, optimizers)
        try rule.choice("schedule", task.schedule, schedules)
        try rule.count("hidden", task.hidden.count, hiddenLayers)
        for (index, width) in task.hidden.enumerated() { try rule.range("hidden[\(index)]", Int(width), hiddenWidth) }
        if task.model == "cnn" {
            try rule.count("channels", task.channels.count, convolutionBlocks)
            for (index, width) in task.channels.enumerated() { try rule.range("channels[\(index)]", Int(width), channelWidth) }
        }
        try rule.range("batch_size", Int(task.batchSize), batchSize)
        try rule.range("epochs", Int(task.epochs), epochs)
        try rule.range("warmup_steps", Int(task.warmupSteps), warmupSteps)
        try rule.range("train_limit", Int(task.trainLimit), trainLimit)
        try rule.range("checkpoint_every", Int(task.checkpointEvery), checkpointEvery)
        try rule.range("bucket_elements", Int(task.bucketElements), bucketElements)
        try rule.range("exact_shards", Int(task.exactShards), exactShards)
        if task.exactShards > 0 {
            try rule.range("exact_shards", Int(task.exactShards), 1...Int(task.batchSize))
            if task.workersMax > 0 { try rule.range("workers_max", Int(task.workersMax), 1...Communicator.maximumExactMembers) }
        }
        if task.workersMax > 0 {
            try rule.range("workers_min", Int(task.workersMin), workers)
            try rule.range("workers_max", Int(task.workersMax), Int(task.workersMin)...workers.upperBound)
        }
        for (name, value) in [
            ("learning_rate", task.learningRate), ("momentum", task.momentum), ("weight_decay", task.weightDecay),
            ("clip_norm", task.clipNorm),
        ] where !value.isFinite || value < 0 {
            throw rule.fail("\(name) must be a finite number ≥ 0, got \(value)")
        }
        guard task.learningRate > 0 else { throw rule.fail("learning_rate must be positive") }
    }

    /// The parameter count of the task's model on images of `imageShape` ([C, H, W]); throws
    /// when the convolutions would shrink the image to nothing or the model is too large.
    static func parameterCount(_ task: Orrery_V1_Workloads_TrainTask, imageShape: [Int], classes: Int) throws(TaskError) -> Int {
        var total = 0
        var inputs = imageShape.reduce(1, *)
        if task.model == "cnn" {
            var (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
            for (index, next) in task.channels.map(Int.init).enumerated() {
                guard height >= 2, width >= 2 else {
                    throw rule.fail("channels[\(index)]: \(imageShape[1])×\(imageShape[2]) images are pooled to nothing after \(index) block(s)")
                }
                total = try add(total, 9 * channels * next + next)
                (channels, height, width) = (next, height / 2, width / 2)
            }
            inputs = channels * height * width
        }
        let sizes = [inputs] + task.hidden.map(Int.init) + [classes]
        for index in 0..<(sizes.count - 1) {
            let (weights, overflow) = sizes[index].multipliedReportingOverflow(by: sizes[index + 1])
            guard !overflow else { throw tooLarge() }
            total = try add(total, weights + sizes[index + 1])
        }
        return total
    }

    private static func add(_ a: Int, _ b: Int) throws(TaskError) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow, sum <= maximumParameters else { throw tooLarge() }
        return sum
    }

    private static func tooLarge() -> TaskError {
        rule.fail("the model would have more than \(maximumParameters) parameters")
    }
}
