import Foundation
import Datasets
import NN
import Tensor

/// A sentence-embedding model in the sentence-transformers layout (all-MiniLM-L6-v2):
/// WordPiece tokens → BERT → mean over real tokens → L2 normalization. Cosine similarity of
/// two embeddings is then their dot product.
public final class SentenceEncoder: @unchecked Sendable {
    public let tokenizer: WordPieceTokenizer
    public let model: BertModel
    /// Longer texts are truncated to this many tokens (sentence-transformers' 256 for MiniLM).
    public let maxLength: Int

    /// Loads `model.safetensors`, `vocab.txt` and `config.json` from `directory`.
    public init(directory: String, maxLength: Int = 256, layerLimit: Int? = nil) throws(ModelFileError) {
        let weightsPath = "\(directory)/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw ModelFileError(path: weightsPath, "missing: run scripts/fetch-data")
        }
        let config = try BertConfig(file: "\(directory)/config.json")
        tokenizer = try WordPieceTokenizer(vocabularyFile: "\(directory)/vocab.txt")
        guard tokenizer.tokens.count == config.vocabularySize else {
            throw ModelFileError(path: "\(directory)/vocab.txt", "has \(tokenizer.tokens.count) tokens, the config says \(config.vocabularySize)")
        }
        let weights: SafetensorsFile
        do throws(TensorError) { weights = try SafetensorsFile(path: weightsPath) } catch { throw ModelFileError(error, fallbackPath: weightsPath) }
        model = try BertModel(config: config, weights: weights, layerLimit: layerLimit)
        self.maxLength = Swift.min(maxLength, config.maxPositions)
    }

    /// The default cached copy fetched by `scripts/fetch-data`.
    public static var defaultDirectory: String { DataCache.path("all-minilm-l6-v2") }

    /// Unit-length embeddings [count, hidden] of `texts`, batched together.
    public func embed(_ texts: [String]) throws(TensorError) -> Tensor {
        try withNoGrad { () throws(TensorError) in
            let batch = tokenizer.encodeBatch(texts, maxLength: maxLength)
            return try encode(model.embed(batch), lengths: batch.lengths)
        }
    }

    /// Embeddings of already-embedded inputs [B, T, hidden] (differentiable: soft prompts);
    /// `checkpointed` trades a second forward pass for the layers' activations (see `BertModel`).
    public func encode(_ inputEmbeddings: Tensor, lengths: [Int], checkpointed: Bool = false) throws(TensorError) -> Tensor {
        let hidden = try model(inputEmbeddings: inputEmbeddings, lengths: lengths, checkpointed: checkpointed)
        return try Self.meanPooled(hidden, lengths: lengths).l2Normalized()
    }

    /// Mean of each sequence's first `lengths[b]` rows of [B, T, hidden] → [B, hidden].
    public static func meanPooled(_ hidden: Tensor, lengths: [Int]) throws(TensorError) -> Tensor {
        let (batch, length) = (hidden.shape[0], hidden.shape[1])
        var weights = [Float](repeating: 0, count: batch * length)
        for (b, valid) in lengths.enumerated() where valid > 0 {
            for t in 0..<valid { weights[b * length + t] = 1 / Float(valid) }
        }
        // [B, 1, T] · [B, T, hidden] → [B, 1, hidden]
        let pooled = try Tensor(weights, shape: [batch, 1, length]).matmul(hidden)
        return try pooled.reshaped(to: [batch, hidden.shape[2]])
    }
}

extension Tensor {
    /// Each row of the last axis divided by its Euclidean norm.
    public func l2Normalized(epsilon: Float = 1e-12) throws(TensorError) -> Tensor {
        let norms = try (squared().sum(axis: -1, keepDimensions: true) + epsilon).sqrt()
        return try self / norms
    }
}
