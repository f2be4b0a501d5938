import NN
import Tensor

/// A BERT encoder (Devlin et al. 2019) with pretrained weights, frozen: token, position and
/// segment embeddings, LayerNorm, then post-norm transformer layers (NN's
/// `TransformerEncoderLayer`, GELU erf). Inputs are token ids or, for soft prompts, input
/// embeddings that gradients flow back to.
public final class BertModel: Module, Int8Quantizable {
    public let config: BertConfig
    public let wordEmbeddings: Tensor
    public let positionEmbeddings: Tensor
    public let tokenTypeEmbeddings: Tensor
    public let embeddingNorm: LayerNorm
    public let layers: [TransformerEncoderLayer]

    /// Reads every weight from a Hugging Face BERT safetensors file (names
    /// `embeddings.*`, `encoder.layer.N.*`); `layerLimit` keeps only the first layers (for
    /// gradient checks on a truncated model).
    public init(config: BertConfig, weights: SafetensorsFile, layerLimit: Int? = nil) throws(ModelFileError) {
        var generator = SplitMix64(seed: 0)
        self.config = config
        let layerCount = Swift.min(layerLimit ?? config.layers, config.layers)
        embeddingNorm = LayerNorm(config.hiddenSize, epsilon: config.layerNormEpsilon)
        layers = (0..<layerCount).map { _ in
            TransformerEncoderLayer(
                width: config.hiddenSize, heads: config.heads, feedForward: config.intermediateSize,
                epsilon: config.layerNormEpsilon, using: &generator)
        }
        do throws(TensorError) {
            wordEmbeddings = try Self.checked(weights.tensor("embeddings.word_embeddings.weight"), [config.vocabularySize, config.hiddenSize], weights)
            positionEmbeddings = try Self.checked(weights.tensor("embeddings.position_embeddings.weight"), [config.maxPositions, config.hiddenSize], weights)
            tokenTypeEmbeddings = try Self.checked(weights.tensor("embeddings.token_type_embeddings.weight"), [config.typeVocabularySize, config.hiddenSize], weights)
            try Self.copy(weights, "embeddings.LayerNorm", into: embeddingNorm.namedParameters())
            for (index, layer) in layers.enumerated() {
                let prefix = "encoder.layer.\(index)."
                let parts: [(String, [(name: String, tensor: Tensor)])] = [
                    ("attention.self.query", layer.attention.query.namedParameters()),
                    ("attention.self.key", layer.attention.key.namedParameters()),
                    ("attention.self.value", layer.attention.value.namedParameters()),
                    ("attention.output.dense", layer.attention.output.namedParameters()),
                    ("attention.output.LayerNorm", layer.norm1.namedParameters()),
                    ("intermediate.dense", layer.expand.namedParameters()),
                    ("output.dense", layer.contract.namedParameters()),
                    ("output.LayerNorm", layer.norm2.namedParameters()),
                ]
                for (name, parameters) in parts { try Self.copy(weights, prefix + name, into: parameters) }
            }
        } catch {
            throw ModelFileError(error, fallbackPath: weights.path)
        }
        setFrozen(true)
    }

    private static func checked(_ tensor: Tensor, _ shape: Shape, _ file: SafetensorsFile) throws(TensorError) -> Tensor {
        guard tensor.shape == shape else {
            throw TensorError(.badFile(path: file.path, detail: "an embedding is \(tensor.shape), the config says \(shape)"))
        }
        return tensor
    }

    /// Copies `prefix.weight` / `prefix.bias` (named as in PyTorch) into a layer's parameters.
    private static func copy(_ file: SafetensorsFile, _ prefix: String, into parameters: [(name: String, tensor: Tensor)]) throws(TensorError) {
        for (name, parameter) in parameters {
            let saved = try file.tensor("\(prefix).\(name)")
            guard saved.shape == parameter.shape else {
                throw TensorError(.badFile(path: file.path, detail: "'\(prefix).\(name)' is \(saved.shape), the model needs \(parameter.shape)"))
            }
            parameter.storage.withUnsafeMutableBufferPointer { target in
                saved.storage.withUnsafeBufferPointer { _ = target.update(fromContentsOf: $0) }
            }
        }
    }

    /// The word embeddings of `batch` ([B, T, hidden]): the input the encoder adds
    /// positions to. Soft prompts replace some of these rows.
    public func embed(_ batch: TokenBatch) throws(TensorError) -> Tensor {
        try wordEmbeddings.embedding(batch.ids, shape: [batch.count, batch.length])
    }

    /// Hidden states [B, T, hidden] for input embeddings [B, T, hidden]; `lengths` mark
    /// each sequence's real tokens (later positions are padding and attend nowhere). With
    /// `checkpointed`, each layer keeps only its input for the backward pass and is run
    /// again there (`Tensor.checkpointed`): less memory for one more forward pass.
    public func callAsFunction(inputEmbeddings: Tensor, lengths: [Int], checkpointed: Bool = false) throws(TensorError) -> Tensor {
        let (batch, length) = (inputEmbeddings.shape[0], inputEmbeddings.shape[1])
        guard length <= config.maxPositions else {
            throw TensorError(.invalidArgument("sequence of \(length) tokens exceeds BERT's \(config.maxPositions) positions"))
        }
        let positions = try positionEmbeddings.sliced(axis: 0, 0..<length)
        let segment = try tokenTypeEmbeddings.sliced(axis: 0, 0..<1)
        var hidden = try embeddingNorm(inputEmbeddings + positions + segment)
        let mask = batch > 1 || lengths.contains { $0 < length } ? try Tensor.paddingMask(lengths: lengths, length: length) : nil
        for layer in layers {
            if checkpointed {
                hidden = try Tensor.checkpointed([hidden], parameters: layer.attention.adapterParameters().map(\.tensor)) { (inputs) throws(TensorError) in
                    try layer(inputs[0], mask: mask)
                }
            } else {
                hidden = try layer(hidden, mask: mask)
            }
        }
        return hidden
    }

    /// Gives every layer's attention LoRA adapters on its query and value projections
    /// (seeded), the only weights that then train.
    public func attachAdapters(rank: Int, alpha: Float, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for layer in layers { layer.attention.attachAdapters(rank: rank, alpha: alpha, using: &generator) }
    }

    /// Every adapter's parameters, named as PEFT names them in a BERT
    /// (`encoder.layer.N.attention.self.query.lora_A`).
    public func adapterParameters() -> [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { index, layer in
            Self.prefixed("encoder.layer.\(index).attention.self", layer.attention.adapterParameters())
        }
    }

    /// Quantizes every encoder layer's linear layers to int8 (embeddings and norms stay float).
    public func quantizeToInt8() throws(TensorError) {
        for layer in layers { try layer.quantizeToInt8() }
    }

    public func dropInt8() { layers.forEach { $0.dropInt8() } }

    /// Structured pruning in place: in every layer, keeps the `heads` fraction of attention
    /// heads and the `feedForward` fraction of feed-forward neurons (at least one of each)
    /// that matter most by their weights (`headImportance`, `feedForwardImportance`), and
    /// removes the rest, so the model does fewer multiply-adds. Data-free: what the pruned
    /// model loses is for fine-tuning (LoRA, a probe) to recover. The model stays frozen.
    /// - Throws: while adapters are attached.
    public func prune(heads: Double, feedForward: Double) throws(TensorError) {
        guard (0...1).contains(heads), heads > 0, (0...1).contains(feedForward), feedForward > 0 else {
            throw TensorError(.invalidArgument("pruning keeps a fraction in (0, 1] of heads and of feed-forward neurons, got \(heads) and \(feedForward)"))
        }
        for layer in layers {
            if heads < 1 { try layer.attention.removeHeads(keeping: StructuredPruning.strongest(layer.attention.headImportance(), fraction: heads)) }
            if feedForward < 1 {
                try layer.removeFeedForwardNeurons(keeping: StructuredPruning.strongest(layer.feedForwardImportance(), fraction: feedForward))
            }
        }
        setFrozen(true)
    }

    /// Folds every adapter into its projection's weight (see `LowRankAdapter`).
    public func mergeAdapters() throws(TensorError) {
        for layer in layers { try layer.attention.mergeAdapters() }
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var parameters: [(name: String, tensor: Tensor)] = [
            ("embeddings.word_embeddings.weight", wordEmbeddings), ("embeddings.position_embeddings.weight", positionEmbeddings),
            ("embeddings.token_type_embeddings.weight", tokenTypeEmbeddings),
        ]
        parameters += Self.prefixed("embeddings.LayerNorm", embeddingNorm.namedParameters())
        for (index, layer) in layers.enumerated() { parameters += Self.prefixed("encoder.layer.\(index)", layer.namedParameters()) }
        return parameters
    }
}
