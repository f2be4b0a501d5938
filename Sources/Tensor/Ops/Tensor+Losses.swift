extension Tensor {
    /// Mean cross-entropy of `logits` [N, C] against class indices `targets` (N of them),
    /// fused with log-softmax: stable, and its gradient is (softmax − one-hot) / N.
    public static func crossEntropy(logits: Tensor, targets: [Int]) throws(TensorError) -> Tensor {
        guard logits.rank == 2, logits.shape[0] == targets.count else {
            throw TensorError(.invalidArgument("cross-entropy takes logits [N, C] and N targets; got \(logits.shape) and \(targets.count)"))
        }
        let classes = logits.shape[1]
        if let bad = targets.first(where: { $0 < 0 || $0 >= classes }) {
            throw TensorError(.invalidArgument("target class \(bad) is outside 0..<\(classes)"))
        }
        let logProbabilities = try softmaxKernel(logits, log: true)
        let rows = targets.count
        var total: Float = 0
        for (row, target) in targets.enumerated() { total -= logProbabilities.storage.base[row * classes + target] }
        let loss = Storage([total / Float(Swift.max(rows, 1))])
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            var oneHot = [Float](repeating: 0, count: rows * classes)
            for (row, target) in targets.enumerated() { oneHot[row * classes + target] = 1 }
            let difference = try logits.softmax() - Tensor(shape: logits.shape, storage: Storage(oneHot))
            return [try difference * g * (1 / Float(Swift.max(rows, 1)))]
        }
        return recording(Shape([]), loss, inputs: [logits], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            let scale = g.item / Float(Swift.max(rows, 1))
            let gradient = logProbabilities.exp()
            let values = gradient.storage.base
            for (row, target) in targets.enumerated() { values[row * classes + target] -= 1 }
            for i in 0..<gradient.count { values[i] *= scale }
            return [gradient]
        }
    }

    /// Mean squared error between two tensors of the same shape.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) throws(TensorError) -> Tensor {
        guard prediction.shape == target.shape else {
            throw TensorError(.shapeMismatch(operation: "mean squared error", prediction.shape, target.shape))
        }
        return try (prediction - target).squared().mean()
    }

    /// Distillation loss: KL(softmax(teacher/T) ‖ softmax(student/T)) · T², averaged over
    /// rows (Hinton et al. 2015). The teacher gets no gradient.
    public static func klDivergence(student: Tensor, teacher: Tensor, temperature: Float = 1) throws(TensorError) -> Tensor {
        guard student.shape == teacher.shape, student.rank >= 1 else {
            throw TensorError(.shapeMismatch(operation: "KL divergence", student.shape, teacher.shape))
        }
        guard temperature > 0 else { throw TensorError(.invalidArgument("temperature must be positive, got \(temperature)")) }
        let rows = Float(student.count / Swift.max(student.shape[student.rank - 1], 1))
        let teacherLog = try (teacher.detached() / temperature).logSoftmax()
        let studentLog = try (student / temperature).logSoftmax()
        let perElement = try teacherLog.exp() * (teacherLog - studentLog)
        return try perElement.sum() * (temperature * temperature / rows)
    }
}
