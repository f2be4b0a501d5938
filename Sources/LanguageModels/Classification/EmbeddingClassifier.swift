import Tensor

/// Zero-shot classification with a sentence encoder: the text (filled into a template) and
/// one description per class are embedded, and the class whose description is most similar
/// (cosine) wins. Descriptions are embedded once per call, texts in batches.
public struct EmbeddingClassifier: Sendable {
    public let encoder: SentenceEncoder
    public let batchSize: Int

    public init(encoder: SentenceEncoder, batchSize: Int = 16) {
        self.encoder = encoder
        self.batchSize = batchSize
    }

    /// Cosine similarities [text][class].
    /// - Parameter template: contains `{text}`, e.g. "A news article: {text}".
    public func scores(template: String, texts: [String], descriptions: [String]) throws(TensorError) -> [[Double]] {
        let classes = try encoder.embed(descriptions)
        var rows: [[Double]] = []
        for start in stride(from: 0, to: texts.count, by: Swift.max(1, batchSize)) {
            let batch = texts[start..<Swift.min(texts.count, start + Swift.max(1, batchSize))]
            let embedded = try encoder.embed(batch.map { template.replacingOccurrences(of: "{text}", with: $0) })
            // Unit vectors: the product is the cosine.
            let similarity = try embedded.matmul(classes, transposeB: true).scalars
            for i in 0..<batch.count {
                rows.append((0..<descriptions.count).map { Double(similarity[i * descriptions.count + $0]) })
            }
        }
        return rows
    }

    public func predict(template: String, texts: [String], descriptions: [String]) throws(TensorError) -> [Int] {
        try scores(template: template, texts: texts, descriptions: descriptions).map(LikelihoodClassifier.argmax)
    }
}
