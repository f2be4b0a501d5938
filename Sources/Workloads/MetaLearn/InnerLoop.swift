import NN
import Tensor

/// The inner loop of gradient-based meta-learners: a few SGD steps on an episode's support
/// set, from the meta-parameters, on copies ("fast weights") that leave the originals alone.
struct InnerLoop {
    let steps: Int
    let learningRate: Float

    /// First-order adaptation: the adapted weights are fresh leaves with no history, so a
    /// loss on them sends gradients to them, not back through the steps (FOMAML, Reptile,
    /// ANIL's head, and every evaluation).
    func adapt(_ start: [Tensor], loss: ([Tensor]) throws -> Tensor) throws -> [Tensor] {
        var fast = start.map { Tensor(shape: $0.shape, storage: $0.storage.copy()).requiringGrad() }
        for _ in 0..<steps {
            try loss(fast).backward()
            fast = try withNoGrad { () throws -> [Tensor] in
                try fast.map { parameter in
                    guard let gradient = parameter.grad else { return parameter }
                    return try (parameter - gradient * learningRate).requiringGrad()
                }
            }
        }
        return fast
    }
}

/// Cross-entropy of logits against labels, and the share of rows whose largest logit is the
/// label's.
enum EpisodeScore {
    static func accuracy(_ logits: Tensor, _ labels: [Int]) throws -> Float {
        let predictions = try logits.argmax(axis: 1).scalars
        return Float(zip(predictions, labels).filter { Int($0) == $1 }.count) / Float(max(1, labels.count))
    }
}
