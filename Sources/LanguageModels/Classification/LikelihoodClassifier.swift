import Tensor

/// Classifies text with a causal language model by likelihood: each class has a
/// verbalizer (e.g. " positive"), and a text's class is the one whose verbalizer is most
/// likely after `prefix` (instruction and demonstrations) + the text's context (the
/// template filled with the text). The prefix's keys and values are computed once for all
/// texts.
public struct LikelihoodClassifier: Sendable {
    public let model: CausalLanguageModel
    /// Texts longer than this many tokens are cut (from the end) before the template fills in.
    public let maxTextTokens: Int

    public init(model: CausalLanguageModel, maxTextTokens: Int = 128) {
        self.model = model
        self.maxTextTokens = maxTextTokens
    }

    /// Log-likelihoods [text][class] of each verbalizer.
    /// - Parameter template: contains `{text}`, e.g. "Review: {text}\nSentiment:".
    public func scores(prefix: String, template: String, texts: [String], verbalizers: [String]) throws(TensorError) -> [[Double]] {
        let tokenizer = model.tokenizer
        let contexts = texts.map { text in tokenizer.encode(template.replacingOccurrences(of: "{text}", with: truncated(text))) }
        return try model.logLikelihoods(prefix: tokenizer.encode(prefix), contexts: contexts, continuations: verbalizers.map(tokenizer.encodePlain))
    }

    /// The most likely class of each text.
    public func predict(prefix: String, template: String, texts: [String], verbalizers: [String]) throws(TensorError) -> [Int] {
        try scores(prefix: prefix, template: template, texts: texts, verbalizers: verbalizers).map(Self.argmax)
    }

    func truncated(_ text: String) -> String {
        let ids = model.tokenizer.encodePlain(text)
        return ids.count <= maxTextTokens ? text : model.tokenizer.decode(Array(ids.prefix(maxTextTokens)))
    }

    static func argmax(_ row: [Double]) -> Int { row.indices.max { row[$0] < row[$1] } ?? 0 }
}
