import Datasets
import Foundation
import LanguageModels
import NN
import Wire

/// Builds the task's model (every member the whole of it, the same way) and runs this
/// member's part of the pipeline.
struct PipelineExecutor: Executor {
    /// Every stage must hold the same pretrained weights, or the stages would compute with
    /// different models without noticing: the file's sha256 is checked against the pinned
    /// one (once per worker) before MiniLM is loaded.
    private let miniLMWeights = FileDigest(path: SentenceEncoder.defaultDirectory + "/model.safetensors")

    /// Texts held out for testing, by a seeded stratified split of the task's rows.
    static let testFraction = 0.2
    static let splitSeed: UInt64 = 7

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        var task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PipelineTask.self, from: payload)
        try PipelineTaskRules.validate(task)
        if !task.savePath.isEmpty { task.savePath = try context.outputPath(task.savePath) }
        let model = try makeModel(task)
        try PipelineTaskRules.validateShape(task, features: (model as? MLPPipelineModel)?.train.images.shape[1], classes: (model as? MLPPipelineModel)?.train.classes)
        return try PipelineTrainer(task: task, model: model).run(context: context)
    }

    func makeModel(_ task: Orrery_V1_Workloads_PipelineTask) throws -> any PipelineModel {
        if task.model == "mlp" {
            let (train, test) = try DatasetCatalog.load(task.dataset)
            return MLPPipelineModel(
                train: train, test: test, hidden: task.hidden.map(Int.init), activation: Activation.Kind(rawValue: task.activation)!, seed: task.seed)
        }
        try miniLMWeights.verify(PinnedWeights.miniLM, why: "every stage must hold the pinned weights")
        let text = try LabeledText.load(task.dataset)
        let (test, train) = text.split(fraction: Self.testFraction, seed: Self.splitSeed, names: ("test", "train"))
        // The split lists rows class by class; a seeded order makes `train_limit` and
        // `test_limit` take every class.
        let mixed = { (part: LabeledText) in part.subset(BatchSampler(count: part.count, batchSize: 1, seed: Self.splitSeed).permutation) }
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        return EncoderPipelineModel(encoder: encoder, train: mixed(train), test: mixed(test), maxTokens: Int(task.maxTokens), seed: task.seed)
    }
}
