import Datasets
import Runtime
import Wire

/// The one definition of what a `TrainTask` may hold. The spec parser reads its ranges and
/// choices; the executor checks every task that arrives from the network against the same
/// rules before it builds anything, so that no value a coordinator (or anyone posing as
/// one) sends can reach a precondition, a division by zero or an allocation the size of
/// the machine.
enum TrainTaskRules {
    static let models = ["mlp", "cnn"]
    static let activations = ["relu", "gelu", "gelu_tanh", "tanh", "sigmoid"]
    static let optimizers = ["sgd", "adam", "adamw"]
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
    /// The largest model a task may ask for: its checkpoint (weights and up to two
    /// optimizer values per weight, float32) must fit in one control frame
    /// (`SocketPolicy.maximumControlMessageBytes`, 64 MiB) with room to spare.
    static let maximumParameters = 4_000_000

    /// Checks every field that does not depend on the data set.
    static func validate(_ task: Orrery_V1_Workloads_TrainTask) throws(TaskError) {
        try choice("dataset", task.dataset, DatasetCatalog.names)
        try choice("model", task.model, models)
        try choice("activation", task.activation, activations)
        try choice("optimizer", task.optimizer, optimizers)
        try choice("schedule", task.schedule, schedules)
        try count("hidden", task.hidden.count, hiddenLayers)
        for (index, width) in task.hidden.enumerated() { try range("hidden[\(index)]", Int(width), hiddenWidth) }
        if task.model == "cnn" {
            try count("channels", task.channels.count, convolutionBlocks)
            for (index, width) in task.channels.enumerated() { try range("channels[\(index)]", Int(width), channelWidth) }
        }
        try range("batch_size", Int(task.batchSize), batchSize)
        try range("epochs", Int(task.epochs), epochs)
        try range("warmup_steps", Int(task.warmupSteps), warmupSteps)
        try range("train_limit", Int(task.trainLimit), trainLimit)
        try range("checkpoint_every", Int(task.checkpointEvery), checkpointEvery)
        try range("bucket_elements", Int(task.bucketElements), bucketElements)
        if task.workersMax > 0 {
            try range("workers_min", Int(task.workersMin), workers)
            try range("workers_max", Int(task.workersMax), Int(task.workersMin)...workers.upperBound)
        }
        for (name, value) in [
            ("learning_rate", task.learningRate), ("momentum", task.momentum), ("weight_decay", task.weightDecay),
            ("clip_norm", task.clipNorm),
        ] where !value.isFinite || value < 0 {
            throw TaskError("train task: \(name) must be a finite number ≥ 0, got \(value)", retryable: false)
        }
        guard task.learningRate > 0 else { throw TaskError("train task: learning_rate must be positive", retryable: false) }
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
                    throw TaskError(
                        "train task: channels[\(index)]: \(imageShape[1])×\(imageShape[2]) images are pooled to nothing after \(index) block(s)",
                        retryable: false)
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
        TaskError("train task: the model would have more than \(maximumParameters) parameters", retryable: false)
    }

    private static func choice(_ field: String, _ value: String, _ choices: [String]) throws(TaskError) {
        guard choices.contains(value) else {
            throw TaskError(
                "train task: unknown \(field) '\(PrintableText.escaped(value, limit: 40))'; known: \(choices.joined(separator: ", "))",
                retryable: false)
        }
    }

    private static func range(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(TaskError) {
        guard allowed.contains(value) else {
            throw TaskError("train task: \(field) must be in \(allowed.lowerBound)...\(allowed.upperBound), got \(value)", retryable: false)
        }
    }

    private static func count(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(TaskError) {
        guard allowed.contains(value) else {
            throw TaskError("train task: \(field) must list \(allowed.lowerBound)...\(allowed.upperBound) widths, got \(value)", retryable: false)
        }
    }
}
