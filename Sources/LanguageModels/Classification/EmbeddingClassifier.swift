import Tensor

/// Zero-shot classification with a sentence encoder: the text (filled into a template) and
/// one description per class are embedded, and the class whose description is most similar
/// (cosine) wins. Descriptions are embedded once per call, texts in batches.
public struct EmbeddingClassifier: Sendable {
    public let encoder: SentenceEncoder
    public let batchSize: Int
    /// Texts (and demonstrations) longer than this many tokens are cut at a word boundary
    /// before the template fills in, so that a template's words after {text} survive.
    public let maxTextTokens: Int?

    public init(encoder: SentenceEncoder, batchSize: Int = 16, maxTextTokens: Int? = nil) {
        self.encoder = encoder
        self.batchSize = batchSize
        self.maxTextTokens = maxTextTokens
    }

    /// `text` cut to at most `maxTextTokens` WordPiece tokens, at a word boundary.
    func truncated(_ text: String) -> String {
        guard let maxTextTokens, encoder.tokenizer.encode(text).count - 2 > maxTextTokens else { return text }
        var kept: [Substring] = [], used = 0
        for word in text.split(whereSeparator: \.isWhitespace) {
            used += encoder.tokenizer.encode(String(word)).count - 2  // less [CLS] and [SEP]
            if used > maxTextTokens { break }
            kept.append(word)
        }
        return kept.joined(separator: " ")
    }

    /// Cosine similarities [text][class].
    /// - Parameter template: contains `{text}`, e.g. "A news article: {text}".
    public func scores(template: String, texts: [String], descriptions: [String]) throws(TensorError) -> [[Double]] {
        try similarities(template: template, texts: texts, classes: encoder.embed(descriptions))
    }

    /// Cosine similarities [text][class] with few-shot class vectors: each class's vector is
    /// the normalized sum of its description's embedding and its demonstrations' embeddings
    /// (a prototype, as in prototypical networks), so labeled examples sharpen a vague
    /// description. `instruction`, when not empty, is put before every filled template.
    public func scores(
        instruction: String, template: String, texts: [String], descriptions: [String], demonstrations: [Demonstration]
    ) throws(TensorError) -> [[Double]] {
        try scores(prepare(instruction: instruction, template: template, descriptions: descriptions, demonstrations: demonstrations), texts: texts)
    }

    /// A prompt's class vectors, computed once for any number of texts (what a worker keeps
    /// between tasks that score the same prompt).
    public struct PreparedClasses: @unchecked Sendable {
        /// Unit class vectors [classes, width].
        let vectors: Tensor
        /// The template with the instruction in front.
        let template: String
    }

    public func prepare(instruction: String, template: String, descriptions: [String], demonstrations: [Demonstration]) throws(TensorError) -> PreparedClasses {
        guard demonstrations.allSatisfy({ descriptions.indices.contains($0.label) }) else {
            throw TensorError(.invalidArgument("a demonstration's label is not one of the \(descriptions.count) classes"))
        }
        let filled = instruction.isEmpty ? template : instruction + " " + template
        guard !demonstrations.isEmpty else { return PreparedClasses(vectors: try encoder.embed(descriptions), template: filled) }
        let width = encoder.model.config.hiddenSize
        var vectors = try encoder.embed(descriptions).scalars
        let shown = try embedFilled(template: filled, texts: demonstrations.map(\.text)).scalars
        for (row, demonstration) in demonstrations.enumerated() {
            for j in 0..<width { vectors[demonstration.label * width + j] += shown[row * width + j] }
        }
        return PreparedClasses(vectors: try Tensor(vectors, shape: Shape([descriptions.count, width])).l2Normalized(), template: filled)
    }

    /// Cosine similarities [text][class] against prepared class vectors.
    public func scores(_ classes: PreparedClasses, texts: [String]) throws(TensorError) -> [[Double]] {
        try similarities(template: classes.template, texts: texts, classes: classes.vectors)
    }

    public func predict(template: String, texts: [String], descriptions: [String]) throws(TensorError) -> [Int] {
        try scores(template: template, texts: texts, descriptions: descriptions).map(LikelihoodClassifier.argmax)
    }

    /// Unit embeddings [texts.count, width] of `texts` (cut to `maxTextTokens`) filled into
    /// `template`: what a text is compared with, and what a demonstration adds to its class.
    public func embedFilled(template: String, texts: [String]) throws(TensorError) -> Tensor {
        try encoder.embed(texts.map { template.replacingOccurrences(of: "{text}", with: truncated($0)) })
    }

    /// Dot products of the embedded, filled-in texts with unit class vectors [classes, width].
    private func similarities(template: String, texts: [String], classes: Tensor) throws(TensorError) -> [[Double]] {
        let count = classes.shape.dimensions[0]
        var rows: [[Double]] = []
        for start in stride(from: 0, to: texts.count, by: Swift.max(1, batchSize)) {
            let batch = Array(texts[start..<Swift.min(texts.count, start + Swift.max(1, batchSize))])
            let embedded = try embedFilled(template: template, texts: batch)
            // Unit vectors: the product is the cosine.
            let similarity = try embedded.matmul(classes, transposeB: true).scalars
            for i in 0..<batch.count { rows.append((0..<count).map { Double(similarity[i * count + $0]) }) }
        }
        return rows
    }
}
