import NN
import Tensor

/// Which tokens of a text — and of the prompt around it — moved a classifier's decision:
/// the class's log-probability attributed to each input token (the attribution summed over
/// the token's embedding), by integrated gradients from the classifier's baseline (no
/// words: zero embeddings for MiniLM, end-of-text tokens for SmolLM2) or by gradient × input. Works for any `PromptableClassifier` (MiniLM, SmolLM2).
public struct TokenAttribution: Sendable {
    /// How attributions are computed.
    public enum Method: String, Sendable, CaseIterable {
        case integratedGradients = "integrated-gradients"
        case gradientTimesInput = "gradient-input"
    }

    /// One input token.
    public struct Token: Sendable, Equatable {
        public let text: String
        public let attribution: Float
        /// Whether the token comes from the template (the prompt) rather than the text.
        public let inPrompt: Bool
    }

    public let tokens: [Token]
    /// The class explained and every class's probability for the text.
    public let classIndex: Int
    public let probabilities: [Float]
    /// The explained score (the class's log-probability) at the input and at the baseline.
    public let score: Float
    public let baselineScore: Float?
    /// |Σ attributions − (score − baselineScore)| / |score − baselineScore| (integrated gradients).
    public let completenessGap: Float?
    /// The trapezoid intervals integrated gradients ended with.
    public let steps: Int

    /// - Parameters:
    ///   - classIndex: the class to explain; the predicted one when nil.
    ///   - steps: integrated gradients' first grid; with `tolerance`, refined (intervals
    ///     halved, up to `maximumSteps`) until the attributions add up within it. MiniLM's
    ///     path from no words to the text is smooth (well within 1% at 64 steps); SmolLM2's
    ///     swings (its attention re-routes as the embeddings move) and needs ~1,000.
    public static func explain(
        _ classifier: any PromptableClassifier, text: String, classIndex: Int? = nil, method: Method = .integratedGradients, steps: Int = 64,
        tolerance: Float? = 0.01, maximumSteps: Int = 2048
    ) throws(TensorError) -> TokenAttribution {
        let (pieces, embeddings) = try classifier.inputTokens(text)
        let probabilities = try withNoGrad { () throws(TensorError) in try classifier.logits(inputEmbeddings: embeddings).softmax().scalars }
        let chosen = classIndex ?? probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        guard probabilities.indices.contains(chosen) else {
            throw TensorError(.invalidArgument("class \(chosen) is outside 0..<\(probabilities.count)"))
        }
        func score(_ batch: Tensor) throws(TensorError) -> Tensor {
            let logProbabilities = try classifier.logits(inputEmbeddings: batch).logSoftmax()
            return try logProbabilities.sliced(axis: 1, chosen..<(chosen + 1)).reshaped(to: [batch.shape[0]])
        }
        let attribution = method == .integratedGradients
            ? try IntegratedGradients.attribute(
                embeddings, baseline: classifier.baseline(like: embeddings), steps: steps, tolerance: tolerance, maximumSteps: maximumSteps, batch: 8,
                score: score)
            : try IntegratedGradients.gradientTimesInput(embeddings, score: score)
        let width = embeddings.shape[2], values = attribution.values.scalars
        let prompt = try promptPositions(classifier, tokens: pieces)
        let tokens = pieces.enumerated().map { index, piece in
            Token(text: piece, attribution: values[(index * width)..<((index + 1) * width)].reduce(0, +), inPrompt: prompt.contains(index))
        }
        return TokenAttribution(
            tokens: tokens, classIndex: chosen, probabilities: probabilities, score: attribution.score,
            baselineScore: attribution.baselineScore, completenessGap: attribution.completenessGap, steps: attribution.steps)
    }

    /// Positions of the template's own tokens: those the sequence shares at its start and its
    /// end with the template filled with an empty text.
    private static func promptPositions(_ classifier: any PromptableClassifier, tokens: [String]) throws(TensorError) -> Set<Int> {
        let empty = try classifier.inputTokens("").tokens
        var prefix = 0
        while prefix < Swift.min(tokens.count, empty.count), tokens[prefix] == empty[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < Swift.min(tokens.count - prefix, empty.count - prefix), tokens[tokens.count - 1 - suffix] == empty[empty.count - 1 - suffix] { suffix += 1 }
        return Set(0..<prefix).union((tokens.count - suffix)..<tokens.count)
    }
}
