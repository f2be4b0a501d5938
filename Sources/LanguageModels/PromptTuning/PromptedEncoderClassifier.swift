import Tensor

/// MiniLM as a prompt-tunable classifier: each text, filled into `template`, is embedded
/// with the soft prompt right after [CLS], mean-pooled and normalized, and its logits are
/// its cosine similarities to the class vectors (the embedded class descriptions, fixed)
/// times `scale` — the zero-shot classifier prompt search uses, made trainable at its input.
public final class PromptedEncoderClassifier: PromptableClassifier, @unchecked Sendable {
    public let encoder: SentenceEncoder
    public let template: String
    /// Unit class vectors [classes, width], computed once.
    public let classVectors: Tensor
    /// Cosines lie in [-1, 1]; a temperature of 1/scale makes them usable logits.
    public let scale: Float
    public let maxTextTokens: Int
    /// Whether training runs the encoder checkpointed layer by layer (less memory, one more
    /// forward pass per step).
    public let checkpointed: Bool

    public convenience init(
        encoder: SentenceEncoder, template: String, descriptions: [String], scale: Float = 20, maxTextTokens: Int = 128,
        checkpointed: Bool = false
    ) throws(TensorError) {
        self.init(
            encoder: encoder, template: template, classVectors: try encoder.embed(descriptions), scale: scale, maxTextTokens: maxTextTokens,
            checkpointed: checkpointed)
    }

    private init(encoder: SentenceEncoder, template: String, classVectors: Tensor, scale: Float, maxTextTokens: Int, checkpointed: Bool) {
        self.encoder = encoder
        self.template = template
        self.classVectors = classVectors
        self.scale = scale
        self.maxTextTokens = maxTextTokens
        self.checkpointed = checkpointed
    }

    /// The same classifier over some of its classes, in the given order (an N-way episode
    /// out of many classes), without embedding their descriptions again.
    public func selecting(_ classes: [Int]) throws(TensorError) -> PromptedEncoderClassifier {
        PromptedEncoderClassifier(
            encoder: encoder, template: template, classVectors: try classVectors.embedding(classes, shape: [classes.count]),
            scale: scale, maxTextTokens: maxTextTokens, checkpointed: checkpointed)
    }

    public func quantizeToInt8() throws(TensorError) { try encoder.model.quantizeToInt8() }

    public var inputWidth: Int { encoder.model.config.hiddenSize }
    public var featureWidth: Int { inputWidth }
    public var classCount: Int { classVectors.shape[0] }
    public var vocabularySize: Int { encoder.model.config.vocabularySize }

    private func batch(_ texts: [String]) -> (ids: [Int], lengths: [Int], length: Int) {
        let cut = EmbeddingClassifier(encoder: encoder, maxTextTokens: maxTextTokens)
        let tokens = encoder.tokenizer.encodeBatch(texts.map { template.replacingOccurrences(of: "{text}", with: cut.truncated($0)) }, maxLength: encoder.maxLength)
        return (tokens.ids, tokens.lengths, tokens.length)
    }

    public func logits(_ texts: [String], prompt: Tensor?) throws(TensorError) -> Tensor {
        let tokens = batch(texts)
        var embedded = try encoder.model.wordEmbeddings.embedding(tokens.ids, shape: [texts.count, tokens.length])
        var lengths = tokens.lengths
        if let prompt {
            embedded = try SoftPrompt.insert(prompt, into: embedded, at: 1)
            lengths = lengths.map { $0 + prompt.shape[0] }
        }
        // Padding sits after each sequence's real tokens, the prompt inside them.
        let sentence = try encoder.encode(embedded, lengths: lengths, checkpointed: checkpointed && GradientMode.isEnabled)
        return try sentence.matmul(classVectors, transposeB: true) * scale
    }

    public func features(_ texts: [String]) throws(TensorError) -> Tensor {
        try withNoGrad { () throws(TensorError) in
            let tokens = batch(texts)
            return try encoder.encode(encoder.model.wordEmbeddings.embedding(tokens.ids, shape: [texts.count, tokens.length]), lengths: tokens.lengths)
        }
    }

    public func tokenEmbeddings(_ text: String) throws(TensorError) -> Tensor {
        let ids = Array(encoder.tokenizer.encode(text).dropFirst().dropLast())  // less [CLS] and [SEP]
        return try vocabularyEmbeddings(ids)
    }

    public func vocabularyEmbeddings(_ ids: [Int]) throws(TensorError) -> Tensor {
        try withNoGrad { () throws(TensorError) in try encoder.model.wordEmbeddings.embedding(ids, shape: [ids.count]) }
    }

    public var adaptableModel: any LowRankAdaptable { encoder.model }

    public func inputTokens(_ text: String) throws(TensorError) -> (tokens: [String], embeddings: Tensor) {
        let ids = batch([text]).ids
        let vocabulary = encoder.tokenizer.tokens
        return (ids.map { vocabulary.indices.contains($0) ? vocabulary[$0] : "?" },
                try withNoGrad { () throws(TensorError) in try encoder.model.wordEmbeddings.embedding(ids, shape: [1, ids.count]) })
    }

    /// All-zero word embeddings: positions and the segment are added inside the encoder, so
    /// the baseline is "every word absent, the layout kept".
    public func baseline(like embeddings: Tensor) throws(TensorError) -> Tensor { Tensor.zeros(embeddings.shape) }

    public func logits(inputEmbeddings: Tensor) throws(TensorError) -> Tensor {
        let (count, length) = (inputEmbeddings.shape[0], inputEmbeddings.shape[1])
        let sentence = try encoder.encode(inputEmbeddings, lengths: Array(repeating: length, count: count))
        return try sentence.matmul(classVectors, transposeB: true) * scale
    }
}
