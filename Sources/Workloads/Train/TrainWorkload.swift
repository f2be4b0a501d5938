import Datasets
import Wire

/// Trains a classifier on a real data set and reports its test accuracy.
///
/// ```yaml
/// train:
///   dataset: fashion-mnist    # fashion-mnist | mnist-5k | digits
///   model: mlp               # mlp | cnn
///   hidden: [256, 256]        # fully connected hidden widths
///   channels: [16, 32]        # cnn: 3×3 convolution widths, each followed by 2×2 max pooling
///   activation: relu
///   optimizer: adam           # sgd | adam | adamw
///   learning_rate: 0.001
///   momentum: 0.9             # sgd
///   nesterov: false           # sgd
///   weight_decay: 0
///   schedule: constant        # constant | cosine | step
///   warmup_steps: 0
///   clip_norm: 0              # global gradient-norm clipping (0: off)
///   batch_size: 64
///   epochs: 5
///   seed: 1
///   save: fashion-mlp.safetensors
///   workers: 2                # data-parallel on a gang of 2 (or {min: 1, max: 4}); default 1
///   checkpoint_every: 200     # steps between checkpoints committed to the coordinator
///   bucket_elements: 1048576  # floats per gradient all-reduce
/// ```
/// With `workers`, one gang task trains the model on several workers at once: each trains
/// on its shard of every global batch and the gradients are all-reduced. When a member
/// dies, the coordinator re-forms the gang from the survivors, which resume from the last
/// checkpoint.
public struct TrainWorkload: Workload {
    public init() {}

    public var kind: String { "train" }
    public var summary: String { "train a classifier on a real data set (Fashion-MNIST) and report test accuracy" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        var task = Orrery_V1_Workloads_TrainTask()
        task.dataset = try section.required("dataset").choice(DatasetCatalog.names)
        task.model = try section.optional("model")?.choice(["mlp", "cnn"]) ?? "mlp"
        task.channels = try section.optional("channels")?.list().map { (node) throws(SpecError) in UInt32(try node.int(in: 1...4096)) } ?? [16, 32]
        task.hidden = try section.optional("hidden")?.list().map { (node) throws(SpecError) in UInt32(try node.int(in: 1...65536)) } ?? [256, 256]
        task.activation = try section.optional("activation")?.choice(["relu", "gelu", "gelu_tanh", "tanh", "sigmoid"]) ?? "relu"
        task.optimizer = try section.optional("optimizer")?.choice(["sgd", "adam", "adamw"]) ?? "adam"
        task.learningRate = Float(try section.optional("learning_rate")?.double() ?? (task.optimizer == "sgd" ? 0.05 : 0.001))
        task.momentum = Float(try section.optional("momentum")?.double() ?? 0.9)
        task.nesterov = try section.optional("nesterov")?.bool() ?? false
        task.weightDecay = Float(try section.optional("weight_decay")?.double() ?? (task.optimizer == "adamw" ? 0.01 : 0))
        task.schedule = try section.optional("schedule")?.choice(["constant", "cosine", "step"]) ?? "constant"
        task.warmupSteps = UInt32(try section.optional("warmup_steps")?.int(in: 0...10_000_000) ?? 0)
        task.clipNorm = Float(try section.optional("clip_norm")?.double() ?? 0)
        task.batchSize = UInt32(try section.optional("batch_size")?.int(in: 1...65536) ?? 64)
        task.epochs = UInt32(try section.optional("epochs")?.int(in: 1...10_000) ?? 5)
        task.seed = UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1)
        task.savePath = try section.optional("save")?.string() ?? ""
        task.trainLimit = UInt32(try section.optional("train_limit")?.int(in: 0...100_000_000) ?? 0)
        if let workers = section.optional("workers") {
            if let range = try? workers.mapping() {
                task.workersMin = UInt32(try range.required("min").int(in: 1...1024))
                task.workersMax = UInt32(try range.required("max").int(in: Int(task.workersMin)...1024))
                try range.finish()
            } else {
                task.workersMin = UInt32(try workers.int(in: 1...1024))
                task.workersMax = task.workersMin
            }
        }
        task.checkpointEvery = UInt32(try section.optional("checkpoint_every")?.int(in: 0...100_000_000) ?? (task.workersMax > 0 ? 100 : 0))
        task.bucketElements = UInt32(try section.optional("bucket_elements")?.int(in: 1024...(1 << 28)) ?? (1 << 20))
        if let rate = section.optional("learning_rate"), task.learningRate <= 0 { throw rate.error("must be positive") }
        if task.nesterov && task.optimizer != "sgd" { throw section.optional("nesterov")!.error("applies to optimizer: sgd only") }
        return TrainPlanner(task: task)
    }

    public func makeExecutor() throws -> any Executor { TrainExecutor() }
}
