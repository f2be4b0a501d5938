import Datasets
import Foundation
import Wire

/// Trains one model cut into pipeline stages on different workers (model parallelism),
/// optionally with each stage replicated for data parallelism.
///
/// ```yaml
/// pipeline:
///   model: minilm             # minilm (pretrained encoder + head, a text task) | mlp
///   dataset: bbc-news         # a text task (minilm) or an image set (mlp)
///   hidden: [1024, 1024]      # mlp: hidden widths (one unit per Linear layer)
///   activation: relu          # mlp
///   stages: 3                 # pipeline stages, each on its own worker
///   replicas: 1               # data-parallel replicas of every stage (stages × replicas workers)
///   units_per_stage: [3, 3, 2]  # explicit cut; absent: balanced from measured unit times
///   schedule: 1f1b            # 1f1b | gpipe
///   weight_gradients: deferred  # deferred (added per group of micro-batches in one product) | immediate
///   micro_batches: 4
///   batch_size: 16            # examples per optimizer step, over all replicas
///   epochs: 1
///   max_steps: 0              # stop early (0: every epoch)
///   optimizer: adamw          # sgd | adam | adamw
///   learning_rate: 5.0e-5
///   weight_decay: 0.01
///   momentum: 0.9             # sgd
///   seed: 1
///   train_limit: 0            # training examples used (0: all)
///   test_limit: 0             # test examples scored (0: all)
///   max_tokens: 128           # minilm: longer texts are truncated
///   checkpoint_every: 0       # steps between checkpoints (mlp; 0: none)
///   evaluate_each_epoch: false
///   save: model.safetensors   # the whole trained model, written by rank 0
///   compare_single: true      # also train the same model on one worker, whole batch
/// ```
public struct PipelineWorkload: Workload {
    public init() {}

    public var kind: String { "pipeline" }
    public var summary: String { "train a model split into pipeline stages on several workers (GPipe or 1F1B), optionally data-parallel per stage" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        var task = Orrery_V1_Workloads_PipelineTask()
        task.model = try section.required("model").choice(PipelineTaskRules.models)
        task.dataset = try section.required("dataset").choice(task.model == "mlp" ? DatasetCatalog.names : PipelineTaskRules.textTasks)
        if task.model == "mlp" {
            task.hidden = try section.optional("hidden")?.list(maximumItems: PipelineTaskRules.hiddenLayers.upperBound).map { (node) throws(SpecError) in
                UInt32(try node.int(in: PipelineTaskRules.hiddenWidth))
            } ?? [1024, 1024, 1024]
            task.activation = try section.optional("activation")?.choice(PipelineTaskRules.activations) ?? "relu"
        } else {
            for field in ["hidden", "activation"] where section.optional(field) != nil {
                throw section.optional(field)!.error("applies to model: mlp only")
            }
            task.maxTokens = UInt32(try section.optional("max_tokens")?.int(in: PipelineTaskRules.maxTokens) ?? 128)
        }
        task.stages = UInt32(try section.optional("stages")?.int(in: PipelineTaskRules.stages) ?? 2)
        task.replicas = UInt32(try section.optional("replicas")?.int(in: PipelineTaskRules.replicas) ?? 1)
        if let node = section.optional("units_per_stage") {
            task.unitsPerStage = try node.list(maximumItems: PipelineTaskRules.stages.upperBound).map { (unit) throws(SpecError) in UInt32(try unit.int(in: 1...256)) }
        }
        task.schedule = try section.optional("schedule")?.choice(PipelineTaskRules.schedules) ?? "1f1b"
        task.immediateWeightGradients = try section.optional("weight_gradients")?.choice(["deferred", "immediate"]) == "immediate"
        task.microBatches = UInt32(try section.optional("micro_batches")?.int(in: PipelineTaskRules.microBatches) ?? 4)
        task.batchSize = UInt32(try section.optional("batch_size")?.int(in: PipelineTaskRules.batchSize) ?? 64)
        task.epochs = UInt32(try section.optional("epochs")?.int(in: PipelineTaskRules.epochs) ?? 1)
        task.maxSteps = UInt32(try section.optional("max_steps")?.int(in: PipelineTaskRules.maxSteps) ?? 0)
        task.optimizer = try section.optional("optimizer")?.choice(PipelineTaskRules.optimizers) ?? "adam"
        task.learningRate = Float(try section.optional("learning_rate")?.double(in: 1e-12...10) ?? (task.optimizer == "sgd" ? 0.05 : 0.001))
        task.weightDecay = Float(try section.optional("weight_decay")?.double(in: 0...10) ?? (task.optimizer == "adamw" ? 0.01 : 0))
        task.momentum = Float(try section.optional("momentum")?.double(in: 0...0.999) ?? 0.9)
        task.seed = UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1)
        task.trainLimit = UInt32(try section.optional("train_limit")?.int(in: PipelineTaskRules.trainLimit) ?? 0)
        task.testLimit = UInt32(try section.optional("test_limit")?.int(in: PipelineTaskRules.trainLimit) ?? 0)
        task.checkpointEvery = UInt32(try section.optional("checkpoint_every")?.int(in: PipelineTaskRules.checkpointEvery) ?? (task.model == "mlp" ? 50 : 0))
        task.evaluateEachEpoch = try section.optional("evaluate_each_epoch")?.bool() ?? false
        task.savePath = try section.optional("save")?.string() ?? ""
        let compareSingle = try section.optional("compare_single")?.bool() ?? false
        do {
            try PipelineTaskRules.validate(task)
            let shape = task.model == "mlp" ? DatasetCatalog.shape(of: task.dataset) : nil
            try PipelineTaskRules.validateShape(task, features: shape.map { $0.imageShape.reduce(1, *) }, classes: shape?.classes)
        } catch {
            throw section.node.error(error.message)
        }
        return PipelinePlanner(task: task, compareSingle: compareSingle)
    }

    public func makeExecutor() throws -> any Executor { PipelineExecutor() }
}
