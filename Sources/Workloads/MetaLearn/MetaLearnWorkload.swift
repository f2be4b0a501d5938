import Datasets
import Wire

/// Meta-learning over few-shot episodes: MAML, first-order MAML, Reptile, ANIL and
/// prototypical networks, meta-trained on one worker or on a gang that splits each
/// meta-batch, then evaluated on meta-test episodes with 95% intervals, beside baselines.
///
/// ```yaml
/// meta-learn:
///   benchmark: rotated-images   # 120 classes of MNIST-5k, Fashion-MNIST, digits × 4 rotations;
///                               # or wordnet-minilm: 45 WordNet categories, glosses embedded by MiniLM;
///                               # or topics-minilm: 40 fortune topics and BBC's 5, embedded by MiniLM
///   algorithm: protonet         # maml | meta-sgd | fomaml | reptile | anil | protonet
///   ways: 5
///   shots: 5
///   queries: 15                 # query examples per class
///   inner_steps: 5              # SGD steps on the support set (not protonet)
///   inner_lr: 0.4
///   outer_lr: 0.001             # Adam on the meta-parameters
///   meta_batch: 16              # episodes per meta-step, split across the gang
///   meta_steps: 1000
///   model: mlp                  # mlp | cnn
///   hidden: [128, 64]           # MLP widths; the last is protonet's embedding
///   channels: [32, 32, 32]      # cnn: 3×3 convolution + ReLU + 2×2 max-pooling blocks
///   image_size: 14              # 14 or 28
///   eval_episodes: 600          # meta-test episodes per shot count
///   eval_shots: [1, 5]          # default: shots
///   baselines: true             # random init, transfer (and zero-shot on text) on the same episodes
///   pretrain_epochs: 10         # the transfer baseline's supervised pre-training
///   seed: 1
///   workers: 2                  # or {min: 1, max: 4}; default: one worker
///   checkpoint_every: 100       # meta-steps between checkpoints (default 100 on a gang)
///   save: meta.safetensors
///   class_descriptions: false   # protonet on text: a class's description is one more shot
///   residual: false             # mlp: x + MLP(x), starting as the identity (the benchmark's own features)
///   validate_every: 0           # meta-steps between meta-validation scorings; the best step's
///   validation_episodes: 200    #   meta-parameters are evaluated and saved (0: the last step's)
/// ```
/// Every meta-batch's episodes are drawn from the seed by index, and their meta-gradients
/// are summed in fixed point across the gang, so 1, 2 or 3 workers end with bit-identical
/// meta-parameters.
public struct MetaLearnWorkload: Workload {
    public init() {}

    public var kind: String { "meta-learn" }
    public var summary: String { "meta-learn over few-shot episodes (MAML, FOMAML, Reptile, ANIL, ProtoNets) with baselines" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        typealias Rules = MetaLearnRules
        var task = Orrery_V1_Workloads_MetaLearnTask()
        task.benchmark = try section.optional("benchmark")?.choice(MetaLearnRules.benchmarks) ?? "rotated-images"
        task.algorithm = try section.required("algorithm").choice(Rules.algorithms)
        task.ways = UInt32(try section.optional("ways")?.int(in: Rules.ways) ?? 5)
        task.shots = UInt32(try section.optional("shots")?.int(in: Rules.shots) ?? 5)
        task.queries = UInt32(try section.optional("queries")?.int(in: Rules.queries) ?? 15)
        task.innerSteps = UInt32(try section.optional("inner_steps")?.int(in: Rules.innerSteps) ?? 5)
        task.innerLr = Float(try section.optional("inner_lr")?.double(in: 1e-9...1e3) ?? 0.4)
        task.outerLr = Float(try section.optional("outer_lr")?.double(in: 1e-9...1e3) ?? 0.001)
        task.metaBatch = UInt32(try section.optional("meta_batch")?.int(in: Rules.metaBatch) ?? 16)
        task.metaSteps = UInt32(try section.optional("meta_steps")?.int(in: Rules.metaSteps) ?? 1000)
        task.hidden = try section.optional("hidden")?.list(maximumItems: Rules.hiddenLayers.upperBound).map { (node) throws(SpecError) in
            UInt32(try node.int(in: Rules.hiddenWidth))
        } ?? [128, 64]
        if task.hidden.isEmpty { throw section.optional("hidden")!.error("needs at least one width") }
        task.model = try section.optional("model")?.choice(Rules.models) ?? "mlp"
        task.channels = try section.optional("channels")?.list(maximumItems: Rules.convolutionBlocks.upperBound).map { (node) throws(SpecError) in
            UInt32(try node.int(in: Rules.channelWidth))
        } ?? [32, 32, 32]
        task.imageSize = UInt32(try section.optional("image_size")?.int(in: 14...28) ?? 14)
        if !FewShotBenchmark.sides.contains(Int(task.imageSize)) {
            throw section.optional("image_size")!.error("must be one of \(FewShotBenchmark.sides)")
        }
        task.evalEpisodes = UInt32(try section.optional("eval_episodes")?.int(in: Rules.evalEpisodes) ?? 600)
        task.evalShots = try section.optional("eval_shots")?.list(maximumItems: Rules.evalShots.upperBound).map { (node) throws(SpecError) in
            UInt32(try node.int(in: Rules.shots))
        } ?? []
        task.baselines = try section.optional("baselines")?.bool() ?? false
        task.pretrainEpochs = UInt32(try section.optional("pretrain_epochs")?.int(in: Rules.pretrainEpochs) ?? 10)
        task.seed = UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1)
        (task.workersMin, task.workersMax) = try GangSpec.parse(section.optional("workers"), allowed: Rules.workers)
        task.checkpointEvery = UInt32(try section.optional("checkpoint_every")?.int(in: Rules.checkpointEvery) ?? (task.workersMax > 0 ? 100 : 0))
        task.savePath = try section.optional("save")?.string() ?? ""
        task.classDescriptions = try section.optional("class_descriptions")?.bool() ?? false
        task.residual = try section.optional("residual")?.bool() ?? false
        if task.residual && task.model != "mlp" { throw section.optional("residual")!.error("applies to model: mlp only") }
        task.validateEvery = UInt32(try section.optional("validate_every")?.int(in: Rules.validateEvery) ?? 0)
        task.validationEpisodes = UInt32(try section.optional("validation_episodes")?.int(in: Rules.validationEpisodes) ?? 200)
        if task.validateEvery == 0, let node = section.optional("validation_episodes") { throw node.error("needs validate_every") }
        if task.classDescriptions && (task.algorithm != "protonet" || !Rules.isText(task)) {
            throw section.optional("class_descriptions")!.error("applies to algorithm: protonet on a text benchmark (\(TextFewShotBenchmark.names.joined(separator: ", "))) only")
        }
        do {
            try Rules.validate(task)
        } catch {
            throw section.node.error(error.message)
        }
        return MetaLearnPlanner.make(task)
    }

    public func makeExecutor() throws -> any Executor { MetaLearnExecutor() }
}
