import Collectives
import Datasets
import Search
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
///   architecture:             # instead of model/hidden/channels/activation: a model as
///     family: cnn             # a `nas` search describes it (see ArchitectureRecipe)
///     blocks: 2
///     channels_1: 32
///     channels_2: 64
///   exact_shards: 12          # sum each batch's gradient over 12 fixed shards in fixed
///                             # point: the same weights on any number of workers (0: off)
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
        task.model = try section.optional("model")?.choice(TrainTaskRules.models) ?? "mlp"
        task.channels = try section.optional("channels")?.list(maximumItems: TrainTaskRules.convolutionBlocks.upperBound).map { (node) throws(SpecError) in UInt32(try node.int(in: TrainTaskRules.channelWidth)) } ?? [16, 32]
        let architecture = section.optional("architecture")
        var settings: [String: ParameterValue] = [:]
        if let architecture {
            settings = try ArchitectureRecipe.settings(from: try architecture.mapping(), allowTraining: false)
            task.architecture = settings.mapValues(\.description)
            for field in ["model", "hidden", "channels", "activation"] where section.optional(field) != nil {
                throw section.optional(field)!.error("cannot be set with architecture, which describes the whole model")
            }
        }
        task.hidden = try section.optional("hidden")?.list(maximumItems: TrainTaskRules.hiddenLayers.upperBound).map { (node) throws(SpecError) in UInt32(try node.int(in: TrainTaskRules.hiddenWidth)) } ?? [256, 256]
        task.activation = try section.optional("activation")?.choice(TrainTaskRules.activations) ?? "relu"
        task.optimizer = try section.optional("optimizer")?.choice(TrainTaskRules.optimizers) ?? "adam"
        task.learningRate = Float(try section.optional("learning_rate")?.double() ?? (task.optimizer == "sgd" ? 0.05 : 0.001))
        task.momentum = Float(try section.optional("momentum")?.double() ?? 0.9)
        task.nesterov = try section.optional("nesterov")?.bool() ?? false
        task.weightDecay = Float(try section.optional("weight_decay")?.double() ?? (task.optimizer == "adamw" ? 0.01 : 0))
        task.schedule = try section.optional("schedule")?.choice(TrainTaskRules.schedules) ?? "constant"
        task.warmupSteps = UInt32(try section.optional("warmup_steps")?.int(in: TrainTaskRules.warmupSteps) ?? 0)
        task.clipNorm = Float(try section.optional("clip_norm")?.double() ?? 0)
        task.batchSize = UInt32(try section.optional("batch_size")?.int(in: TrainTaskRules.batchSize) ?? 64)
        task.epochs = UInt32(try section.optional("epochs")?.int(in: TrainTaskRules.epochs) ?? 5)
        task.seed = UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1)
        task.savePath = try section.optional("save")?.string() ?? ""
        task.trainLimit = UInt32(try section.optional("train_limit")?.int(in: TrainTaskRules.trainLimit) ?? 0)
        (task.workersMin, task.workersMax) = try GangSpec.parse(section.optional("workers"), allowed: TrainTaskRules.workers)
        task.checkpointEvery = UInt32(try section.optional("checkpoint_every")?.int(in: TrainTaskRules.checkpointEvery) ?? (task.workersMax > 0 ? 100 : 0))
        task.bucketElements = UInt32(try section.optional("bucket_elements")?.int(in: TrainTaskRules.bucketElements) ?? (1 << 20))
        if let shards = section.optional("exact_shards") {
            task.exactShards = UInt32(try shards.int(in: 0...min(TrainTaskRules.exactShards.upperBound, Int(task.batchSize))))
            if task.exactShards > 0 && task.workersMax > UInt32(Communicator.maximumExactMembers) {
                throw shards.error("sums exactly over at most \(Communicator.maximumExactMembers) workers; workers allows \(task.workersMax)")
            }
        }
        if let rate = section.optional("learning_rate"), task.learningRate <= 0 { throw rate.error("must be positive") }
        if task.nesterov && task.optimizer != "sgd" { throw section.optional("nesterov")!.error("applies to optimizer: sgd only") }
        for (field, value) in [("momentum", task.momentum), ("weight_decay", task.weightDecay), ("clip_norm", task.clipNorm)] where value < 0 {
            throw section.optional(field)!.error("must be 0 or more")
        }
        // The data set's shape decides how deep the convolutions may go and how large the
        // model is: the same check a worker makes, made before the job is accepted.
        if let architecture, let (shape, classes) = DatasetCatalog.shape(of: task.dataset) {
            do {
                _ = try ArchitectureRecipe(settings, imageShape: shape, classes: classes, subject: "architecture", batchSize: Int(task.batchSize))
            } catch {
                throw architecture.error(error.message)
            }
        } else if let (shape, classes) = DatasetCatalog.shape(of: task.dataset) {
            do {
                _ = try TrainTaskRules.parameterCount(task, imageShape: shape, classes: classes)
            } catch {
                throw section.node.error(error.message)
            }
        }
        return TrainPlanner.make(task)
    }

    public func makeExecutor() throws -> any Executor { TrainExecutor() }
}
