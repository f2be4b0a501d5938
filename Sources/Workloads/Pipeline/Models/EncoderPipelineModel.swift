import Datasets
import LanguageModels
import NN
import Tensor

/// The pretrained all-MiniLM-L6-v2 encoder fine-tuned as a text classifier: unit 0 adds
/// positions and segment to the (frozen) word embeddings and normalizes, units 1…L are the
/// encoder layers (all their weights trained), and the last unit mean-pools the real tokens
/// and applies a linear head (seeded). What crosses a stage boundary is the hidden states
/// [B, T, 384]; each stage rebuilds the padding mask from the batch's token lengths.
final class EncoderPipelineModel: PipelineModel {
    let encoder: SentenceEncoder
    let head: Linear
    let classes: Int
    /// Token ids of every text, truncated to the task's `max_tokens`, tokenized once.
    private let trainTokens: [[Int]]
    private let testTokens: [[Int]]
    private let trainLabels: [Int]
    private let testLabels: [Int]

    init(encoder: SentenceEncoder, train: LabeledText, test: LabeledText, maxTokens: Int, seed: UInt64) {
        self.encoder = encoder
        classes = train.classes.count
        var generator = SplitMix64(seed: seed)
        head = Linear(encoder.model.config.hiddenSize, classes, using: &generator)
        let limit = min(maxTokens, encoder.model.config.maxPositions)
        trainTokens = train.texts.map { encoder.tokenizer.encode($0, maxLength: limit) }
        testTokens = test.texts.map { encoder.tokenizer.encode($0, maxLength: limit) }
        (trainLabels, testLabels) = (train.targets, test.targets)
        for layer in encoder.model.layers { layer.setFrozen(false) }
    }

    var name: String { "minilm" }
    var unitCount: Int { encoder.model.layers.count + 2 }
    var trainCount: Int { trainTokens.count }
    var testCount: Int { testTokens.count }
    private var headUnit: Int { unitCount - 1 }

    func parameters(ofUnit unit: Int) -> [(name: String, tensor: Tensor)] {
        switch unit {
        case 0: []  // the embeddings stay as pretrained
        case headUnit: Linear.prefixed("classifier", head.namedParameters())
        default: Linear.prefixed("encoder.layer.\(unit - 1)", encoder.model.layers[unit - 1].namedParameters())
        }
    }

    private func tokens(_ batch: PipelineBatch) -> TokenBatch {
        let all = batch.split == .train ? trainTokens : testTokens
        return TokenBatch(batch.indices.map { all[$0] }, padID: encoder.tokenizer.paddingID)
    }

    private func labels(_ batch: PipelineBatch) -> [Int] {
        let all = batch.split == .train ? trainLabels : testLabels
        return batch.indices.map { all[$0] }
    }

    func input(_ batch: PipelineBatch) throws -> Tensor { try encoder.model.embed(tokens(batch)) }

    func inputShape(ofUnit unit: Int, _ batch: PipelineBatch) -> Shape {
        let all = batch.split == .train ? trainTokens : testTokens
        let length = batch.indices.map { all[$0].count }.max() ?? 0
        return [batch.indices.count, length, encoder.model.config.hiddenSize]
    }

    func forward(unit: Int, _ x: Tensor, _ batch: PipelineBatch) throws -> Tensor {
        let model = encoder.model
        let lengths = tokens(batch).lengths
        switch unit {
        case 0:
            let length = x.shape[1]
            let positions = try model.positionEmbeddings.sliced(axis: 0, 0..<length)
            let segment = try model.tokenTypeEmbeddings.sliced(axis: 0, 0..<1)
            return try model.embeddingNorm(x + positions + segment)
        case headUnit:
            return try head(SentenceEncoder.meanPooled(x, lengths: lengths))
        default:
            let length = x.shape[1]
            let mask = x.shape[0] > 1 || lengths.contains { $0 < length } ? try Tensor.paddingMask(lengths: lengths, length: length) : nil
            return try model.layers[unit - 1](x, mask: mask)
        }
    }

    func loss(_ output: Tensor, _ batch: PipelineBatch) throws -> Tensor {
        try Tensor.crossEntropy(logits: output, targets: labels(batch))
    }

    func correct(_ output: Tensor, _ batch: PipelineBatch) throws -> Int {
        try Self.countCorrect(logits: output, labels: labels(batch))
    }
}
