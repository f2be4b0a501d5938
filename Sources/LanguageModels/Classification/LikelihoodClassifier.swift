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
        return try model.logLikelihoods(
            prefix: tokenizer.encode(prefix), contexts: contexts(template, texts), continuations: verbalizers.map(tokenizer.encodePlain))
    }

    /// The prefix a prompt shares across texts: the instruction and a blank line (when there
    /// is an instruction), then each demonstration as its filled template, its class's
    /// verbalizer and a blank line.
    public static func prefix(instruction: String, demonstrations: [Demonstration], template: String, verbalizers: [String]) -> String {
        let head = instruction.isEmpty ? "" : instruction + "\n\n"
        return head + demonstrations.map { template.replacingOccurrences(of: "{text}", with: $0.text) + verbalizers[$0.label] + "\n\n" }.joined()
    }

    /// Log-likelihoods [text][class] under a few-shot prompt, with demonstration texts cut
    /// as texts are. Demonstration labels must index `verbalizers`.
    ///
    /// With `recomputePrefix` every text runs the whole prefix again (the same tokens), which
    /// gives the same scores and measures what reusing the prefix's keys and values saves.
    public func scores(
        instruction: String, demonstrations: [Demonstration], template: String, texts: [String], verbalizers: [String],
        recomputePrefix: Bool = false
    ) throws(TensorError) -> [[Double]] {
        guard recomputePrefix else {
            return try scores(prepare(instruction: instruction, demonstrations: demonstrations, template: template, verbalizers: verbalizers), texts: texts)
        }
        let prefixIDs = try prefixTokens(instruction: instruction, demonstrations: demonstrations, template: template, verbalizers: verbalizers)
        return try model.logLikelihoods(
            prefix: [], contexts: contexts(template, texts).map { prefixIDs + $0 }, continuations: verbalizers.map(model.tokenizer.encodePlain))
    }

    /// A few-shot prompt made ready for any number of texts: its prefix run once (what a
    /// worker keeps between tasks that score the same prompt on other examples).
    public struct PreparedPrompt: Sendable {
        let prefix: RunPrefix
        let template: String
        let continuations: [[Int]]
    }

    public func prepare(instruction: String, demonstrations: [Demonstration], template: String, verbalizers: [String]) throws(TensorError) -> PreparedPrompt {
        let prefix = try prefixTokens(instruction: instruction, demonstrations: demonstrations, template: template, verbalizers: verbalizers)
        return PreparedPrompt(prefix: try model.run(prefix: prefix), template: template, continuations: verbalizers.map(model.tokenizer.encodePlain))
    }

    /// Log-likelihoods [text][class] under a prepared prompt.
    public func scores(_ prompt: PreparedPrompt, texts: [String]) throws(TensorError) -> [[Double]] {
        try model.logLikelihoods(after: prompt.prefix, contexts: contexts(prompt.template, texts), continuations: prompt.continuations)
    }

    /// Each text, cut, filled into the template and tokenized.
    private func contexts(_ template: String, _ texts: [String]) -> [[Int]] {
        texts.map { model.tokenizer.encode(template.replacingOccurrences(of: "{text}", with: truncated($0))) }
    }

    private func prefixTokens(instruction: String, demonstrations: [Demonstration], template: String, verbalizers: [String]) throws(TensorError) -> [Int] {
        guard demonstrations.allSatisfy({ verbalizers.indices.contains($0.label) }) else {
            throw TensorError(.invalidArgument("a demonstration's label is not one of the \(verbalizers.count) classes"))
        }
        let shown = demonstrations.map { Demonstration(text: truncated($0.text), label: $0.label) }
        return model.tokenizer.encode(Self.prefix(instruction: instruction, demonstrations: shown, template: template, verbalizers: verbalizers))
    }

    /// The most likely class of each text.
    public func predict(prefix: String, template: String, texts: [String], verbalizers: [String]) throws(TensorError) -> [Int] {
        try scores(prefix: prefix, template: template, texts: texts, verbalizers: verbalizers).map(Self.argmax)
    }

    /// `text` cut to its first `maxTextTokens` tokens.
    public func truncated(_ text: String) -> String {
        let ids = model.tokenizer.encodePlain(text)
        return ids.count <= maxTextTokens ? text : model.tokenizer.decode(Array(ids.prefix(maxTextTokens)))
    }

    /// The index of the largest score (the first, on ties).
    public static func argmax(_ row: [Double]) -> Int { row.indices.max { row[$0] < row[$1] } ?? 0 }
}
