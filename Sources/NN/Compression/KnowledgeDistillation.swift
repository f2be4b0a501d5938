import Tensor

/// Knowledge distillation (Hinton, Vinyals & Dean 2015): a student learns from a teacher's
/// softened class probabilities as well as from the labels,
///
///   L = α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α) · CE(s, y)
///
/// with the T² keeping the soft term's gradients the size of the hard term's as T grows.
/// Built from recorded operations, so its gradient (T·(softmax(s/T) − softmax(t/T))/N for
/// the soft term) comes from the tape and is checked against finite differences.
public enum KnowledgeDistillation {
    /// - Parameters:
    ///   - student: logits [N, C], recorded.
    ///   - teacher: logits [N, C], constants (computed without gradients).
    ///   - targets: N class indices.
    public static func loss(student: Tensor, teacher: Tensor, targets: [Int], temperature: Float, alpha: Float) throws(TensorError) -> Tensor {
        guard student.shape == teacher.shape, student.rank == 2 else {
            throw TensorError(.shapeMismatch(operation: "distillation (student and teacher logits [N, C])", student.shape, teacher.shape))
        }
        guard temperature > 0, (0...1).contains(alpha) else {
            throw TensorError(.invalidArgument("distillation needs temperature > 0 and alpha in [0, 1], got \(temperature) and \(alpha)"))
        }
        let rows = Float(student.shape[0])
        // log p from log-softmax (finite even where p underflows to 0), p from it.
        let logSoft = try (teacher.detached() * (1 / temperature)).logSoftmax()
        let soft = logSoft.exp()
        let logStudent = try (student * (1 / temperature)).logSoftmax()
        // KL = Σ p (log p − log q), averaged over rows.
        let divergence = try (soft * (logSoft - logStudent)).sum() * (1 / rows)
        let hard = try Tensor.crossEntropy(logits: student, targets: targets)
        return try divergence * (alpha * temperature * temperature) + hard * (1 - alpha)
    }
}
