import Tensor

/// SmolLM2 as a prompt-tunable classifier: the soft prompt goes first, then the text filled
/// into `template`; each class's logit is the model's logit for the first token of its
/// verbalizer at the last position. A softmax over those logits equals the model's
/// probabilities of the verbalizers renormalized over the classes (the vocabulary's
/// normalizer cancels), so only C rows of the output projection are ever computed.
public final class PromptedLikelihoodClassifier: PromptableClassifier, @unchecked Sendable {
    public let model: CausalLanguageModel
    public let template: String
    /// The first token of each class's verbalizer.
    public let verbalizerTokens: [Int]
    public let maxTextTokens: Int
    /// Whether training runs the model checkpointed block by block (less memory, one more
    /// forward pass per step).
    public let checkpointed: Bool
    /// Output-projection rows [classes, width] of `verbalizerTokens`.
    private let classRows: Tensor

    /// - Throws: when a verbalizer is empty or two share their first token (they could
    ///   not be told apart at one position).
    public init(
        model: CausalLanguageModel, template: String, verbalizers: [String], maxTextTokens: Int = 64, checkpointed: Bool = false
    ) throws(TensorError) {
        self.model = model
        self.template = template
        self.maxTextTokens = maxTextTokens
        self.checkpointed = checkpointed
        var firsts: [Int] = []
        for verbalizer in verbalizers {
            guard let first = model.tokenizer.encodePlain(verbalizer).first else {
                throw TensorError(.invalidArgument("verbalizer '\(verbalizer)' has no tokens"))
            }
            if let other = firsts.firstIndex(of: first) {
                throw TensorError(.invalidArgument("verbalizers '\(verbalizers[other])' and '\(verbalizer)' start with the same token; they cannot be told apart"))
            }
            firsts.append(first)
        }
        verbalizerTokens = firsts
        classRows = try model.model.outputProjection.rows(firsts, shape: [firsts.count])
    }

    /// SmolLM2 keeps Q8_0/Q4_1 blocks (`CausalLanguageModel(path:, mode: .quantized)`), not
    /// per-channel int8.
    public func quantizeToInt8() throws(TensorError) {
        throw TensorError(.invalidArgument("SmolLM2 has no int8 path; its weights are kept quantized in blocks instead"))
    }

    public var inputWidth: Int { model.model.config.width }
    public var featureWidth: Int { inputWidth }
    public var classCount: Int { verbalizerTokens.count }
    public var vocabularySize: Int { model.model.config.vocabularySize }

    private func contexts(_ texts: [String]) -> [[Int]] {
        let cut = LikelihoodClassifier(model: model, maxTextTokens: maxTextTokens)
        return texts.map { model.tokenizer.encode(template.replacingOccurrences(of: "{text}", with: cut.truncated($0))) }
    }

    /// Final hidden states [B, width] at each sequence's last real token.
    private func lastHidden(_ texts: [String], prompt: Tensor?) throws(TensorError) -> Tensor {
        let sequences = contexts(texts)
        let batch = TokenBatch(sequences, padID: 0)
        var embedded = try model.model.embed(batch.ids, batch: texts.count, length: batch.length)
        var lengths = batch.lengths
        if let prompt {
            embedded = try SoftPrompt.insert(prompt, into: embedded, at: 0)
            lengths = lengths.map { $0 + prompt.shape[0] }
        }
        let hidden = try model.model.hiddenStates(embedded, checkpointed: checkpointed && GradientMode.isEnabled)
        // Padding is on the right and attention is causal, so a sequence's last real row
        // never saw its padding; pick it with a one-hot product (differentiable).
        let total = hidden.shape[1]
        var pick = [Float](repeating: 0, count: texts.count * total)
        for (b, length) in lengths.enumerated() where length > 0 { pick[b * total + length - 1] = 1 }
        let picked = try Tensor(pick, shape: [texts.count, 1, total]).matmul(hidden)
        return try picked.reshaped(to: [texts.count, inputWidth])
    }

    public func logits(_ texts: [String], prompt: Tensor?) throws(TensorError) -> Tensor {
        try lastHidden(texts, prompt: prompt).matmul(classRows, transposeB: true)
    }

    public func features(_ texts: [String]) throws(TensorError) -> Tensor {
        try withNoGrad { () throws(TensorError) in try lastHidden(texts, prompt: nil) }
    }

    public func tokenEmbeddings(_ text: String) throws(TensorError) -> Tensor {
        try vocabularyEmbeddings(model.tokenizer.encodePlain(text))
    }

    public func vocabularyEmbeddings(_ ids: [Int]) throws(TensorError) -> Tensor {
        try model.model.embed(ids, batch: 1, length: ids.count).reshaped(to: [ids.count, inputWidth])
    }

    public var adaptableModel: any LowRankAdaptable { model.model }

    public func inputTokens(_ text: String) throws(TensorError) -> (tokens: [String], embeddings: Tensor) {
        let ids = contexts([text])[0]
        return (ids.map { model.tokenizer.decode([$0]) }, try withNoGrad { () throws(TensorError) in try model.model.embed(ids, batch: 1, length: ids.count) })
    }

    /// The end-of-text token's embedding at every position. Not zeros: RMSNorm divides by the
    /// input's own scale, so the model's output jumps between a zero input and any small
    /// multiple of a real one, and integrated gradients along that path would not add up.
    public func baseline(like embeddings: Tensor) throws(TensorError) -> Tensor {
        let length = embeddings.shape[1]
        return try withNoGrad { () throws(TensorError) in
            try model.model.embed(Array(repeating: model.tokenizer.endID, count: length), batch: 1, length: length)
        }
    }

    public func logits(inputEmbeddings: Tensor) throws(TensorError) -> Tensor {
        let (count, length) = (inputEmbeddings.shape[0], inputEmbeddings.shape[1])
        let hidden = try model.model.hiddenStates(inputEmbeddings)
        let last = try hidden.sliced(axis: 1, (length - 1)..<length).reshaped(to: [count, inputWidth])
        return try last.matmul(classRows, transposeB: true)
    }
}
