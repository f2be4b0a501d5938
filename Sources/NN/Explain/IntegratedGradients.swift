import Tensor

/// Which parts of an input moved a model's score: integrated gradients (Sundararajan,
/// Taly & Yan 2017) and gradient × input, over any differentiable input — pixels of an
/// engine model, input embeddings of MiniLM or SmolLM2 (the gradients soft prompts are
/// trained with).
///
/// Integrated gradients attributes (x − x′) ⊙ ∫₀¹ ∇f(x′ + α(x − x′)) dα to each input
/// value, with the integral taken by the trapezoid rule over `steps` intervals. Its
/// attributions add up to f(x) − f(x′) (completeness), up to the quadrature's error —
/// `Attribution.completenessGap` says how far, so a caller can ask for more steps.
public enum IntegratedGradients {
    /// Attributions for one input and how well they add up.
    public struct Attribution {
        /// Same shape as the input.
        public let values: Tensor
        public let score: Float
        /// The score at the baseline (integrated gradients), or nil (gradient × input).
        public let baselineScore: Float?
        /// Trapezoid intervals the integral ended with (0 for gradient × input).
        public let steps: Int

        /// Σ attributions − (f(x) − f(x′)), relative to |f(x) − f(x′)|.
        public var completenessGap: Float? {
            guard let baselineScore else { return nil }
            let total = values.scalars.reduce(0, +), change = score - baselineScore
            return abs(total - change) / Swift.max(abs(change), 1e-12)
        }
    }

    /// - Parameters:
    ///   - input: one input, its leading axis of size 1 ([1, …]).
    ///   - baseline: an input of the same shape that means "nothing" (black pixels, no
    ///     words).
    ///   - steps: trapezoid intervals along the path.
    ///   - tolerance: when set, the intervals are halved (reusing every point already
    ///     scored) until the completeness gap is at most this or `maximumSteps` is reached:
    ///     a ReLU network's gradient jumps along the path, and a fixed grid can miss by a
    ///     few percent where a smooth network is well within 1%.
    ///   - batch: interpolated inputs scored at once.
    ///   - score: the model's score of each input of a batch [B, …] → [B].
    public static func attribute(
        _ input: Tensor, baseline: Tensor, steps: Int = 64, tolerance: Float? = nil, maximumSteps: Int = 1024, batch: Int = 16,
        score: (Tensor) throws(TensorError) -> Tensor
    ) throws(TensorError) -> Attribution {
        guard input.shape == baseline.shape, input.rank >= 1, input.shape[0] == 1 else {
            throw TensorError(.shapeMismatch(operation: "integrated gradients (input and baseline [1, …])", input.shape, baseline.shape))
        }
        guard steps >= 1, batch >= 1 else { throw TensorError(.invalidArgument("integrated gradients needs steps ≥ 1 and batch ≥ 1")) }
        let difference = try input.detached() - baseline.detached()
        let width = input.count

        /// Gradients summed with `weights` over the path points `alphas`, and the scores there.
        func evaluate(_ alphas: [Float], weights: [Float]) throws(TensorError) -> (sum: [Float], scores: [Float]) {
            var sum = [Float](repeating: 0, count: width), scores: [Float] = []
            for start in stride(from: 0, to: alphas.count, by: batch) {
                let part = Array(alphas[start..<Swift.min(alphas.count, start + batch)])
                let points = try Tensor.concatenate(part.map { (alpha) throws(TensorError) in try baseline.detached() + difference * alpha }, axis: 0)
                    .requiringGrad()
                let values = try score(points)
                guard values.count == part.count else {
                    throw TensorError(.invalidArgument("the score gives \(values.count) values for a batch of \(part.count)"))
                }
                try values.sum().backward()
                guard let gradient = points.grad?.scalars else { throw TensorError(.noGradient("the score does not depend on its input")) }
                for offset in part.indices {
                    let weight = weights[start + offset]
                    for i in 0..<width { sum[i] += weight * gradient[offset * width + i] }
                }
                scores += values.scalars
            }
            return (sum, scores)
        }

        var n = steps
        // Trapezoid weights: half at the two ends.
        let grid = (0...n).map { Float($0) / Float(n) }
        let first = try evaluate(grid, weights: grid.map { ($0 == 0 || $0 == 1 ? 0.5 : 1) / Float(n) })
        var integral = first.sum
        let (baselineScore, score) = (first.scores[0], first.scores[n])
        func attribution() throws(TensorError) -> Attribution {
            Attribution(values: try difference * Tensor(integral, shape: input.shape), score: score, baselineScore: baselineScore, steps: n)
        }
        var result = try attribution()
        while let tolerance, let gap = result.completenessGap, gap > tolerance, 2 * n <= maximumSteps {
            let midpoints = (0..<n).map { (Float(2 * $0) + 1) / Float(2 * n) }
            let added = try evaluate(midpoints, weights: Array(repeating: 1 / Float(2 * n), count: n)).sum
            integral = zip(integral, added).map { $0 / 2 + $1 }
            n *= 2
            result = try attribution()
        }
        return result
    }

    /// Gradient × input: one backward pass, the first-order picture (no completeness).
    public static func gradientTimesInput(_ input: Tensor, score: (Tensor) throws(TensorError) -> Tensor) throws(TensorError) -> Attribution {
        let point = input.detached().requiringGrad()
        let value = try score(point)
        try value.sum().backward()
        guard let gradient = point.grad else { throw TensorError(.noGradient("the score does not depend on its input")) }
        return Attribution(values: try gradient * input.detached(), score: value.scalars.first ?? 0, baselineScore: nil, steps: 0)
    }
}
