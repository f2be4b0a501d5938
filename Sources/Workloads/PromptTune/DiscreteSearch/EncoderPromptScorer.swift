import Datasets
import LanguageModels
import Tensor

/// K-shot prompt scoring with the sentence encoder: a text's logit for a class is the
/// cosine of its filled-in embedding with the class vector, times the scale the tuned
/// classifier uses (`PromptedEncoderClassifier.scale`). A class vector is its description's
/// embedding, plus its shots' embeddings when they serve as prototypes (the sum,
/// normalized, as `EmbeddingClassifier.prepare` builds it). Embeddings are computed once per
/// template and per description and reused by every candidate that shares them.
final class EncoderPromptScorer: FewShotPromptScorer {
    private let classifier: EmbeddingClassifier
    private let scale: Float
    /// Keyed by the template followed by the shots' texts.
    private var filled: [[String]: [[Float]]] = [:]
    private var described: [[String]: [[Float]]] = [:]

    init(encoder: SentenceEncoder, maxTextTokens: Int, scale: Float = 20) {
        classifier = EmbeddingClassifier(encoder: encoder, maxTextTokens: maxTextTokens)
        self.scale = scale
    }

    func modelChanged() {
        filled = [:]
        described = [:]
    }

    func shotLogits(_ prompt: DiscretePrompt, shots: LabeledText) throws(TensorError) -> [[Float]] {
        let texts = try shotEmbeddings(prompt.template, shots)
        let sums = try classSums(prompt, shots: shots)
        return texts.indices.map { row in
            sums.indices.map { label in
                var vector = sums[label]
                if prompt.prototypes && shots.targets[row] == label {
                    for j in vector.indices { vector[j] -= texts[row][j] }
                }
                return scale * Self.cosine(texts[row], vector)
            }
        }
    }

    func logits(_ prompt: DiscretePrompt, shots: LabeledText, texts: [String]) throws(TensorError) -> Tensor {
        let vectors = try classSums(prompt, shots: shots)
        let width = vectors[0].count
        let units = try Tensor(vectors.flatMap { Self.unit($0) }, shape: [vectors.count, width])
        return try classifier.embedFilled(template: prompt.template, texts: texts).matmul(units, transposeB: true) * scale
    }

    /// Each class's description embedding plus, with prototypes, its shots' embeddings (not normalized).
    private func classSums(_ prompt: DiscretePrompt, shots: LabeledText) throws(TensorError) -> [[Float]] {
        var sums = try descriptionEmbeddings(prompt.descriptions)
        guard prompt.prototypes else { return sums }
        for (row, vector) in try shotEmbeddings(prompt.template, shots).enumerated() {
            for j in vector.indices { sums[shots.targets[row]][j] += vector[j] }
        }
        return sums
    }

    private func shotEmbeddings(_ template: String, _ shots: LabeledText) throws(TensorError) -> [[Float]] {
        let key = [template] + shots.texts
        if let known = filled[key] { return known }
        let rows = try Self.rows(classifier.embedFilled(template: template, texts: shots.texts))
        filled[key] = rows
        return rows
    }

    private func descriptionEmbeddings(_ descriptions: [String]) throws(TensorError) -> [[Float]] {
        if let known = described[descriptions] { return known }
        let rows = try Self.rows(classifier.encoder.embed(descriptions))
        described[descriptions] = rows
        return rows
    }

    private static func rows(_ matrix: Tensor) -> [[Float]] {
        let width = matrix.shape.dimensions[1]
        let values = matrix.scalars
        return (0..<matrix.shape.dimensions[0]).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// `a` is a unit vector; `b` any.
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / norm : 0
    }

    static func unit(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
