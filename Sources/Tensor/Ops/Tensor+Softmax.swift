import Foundation

extension Tensor {
    /// Row-wise softmax over the last axis, computed stably (the row maximum is subtracted).
    public func softmax() throws(TensorError) -> Tensor {
        let y = try Self.softmaxKernel(self, log: false)
        let x = self
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let y = try x.softmax()
            return [try y * (g - (g * y).sum(axis: -1, keepDimensions: true))]
        }
        return Self.recording(shape, y.storage, inputs: [self], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            // dx = y ⊙ (g − Σ g⊙y)
            let dot = try (g * y).sum(axis: -1, keepDimensions: true)
            return [try y * (g - dot)]
        }
    }

    /// Row-wise log-softmax over the last axis: x − max − log Σ exp(x − max).
    public func logSoftmax() throws(TensorError) -> Tensor {
        let y = try Self.softmaxKernel(self, log: true)
        let x = self
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            [try g - x.softmax() * g.sum(axis: -1, keepDimensions: true)]
        }
        return Self.recording(shape, y.storage, inputs: [self], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            // dx = g − softmax ⊙ Σ g
            let total = try g.sum(axis: -1, keepDimensions: true)
            return [try g - y.exp() * total]
        }
    }

    static func softmaxKernel(_ x: Tensor, log: Bool) throws(TensorError) -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] > 0 else {
            throw TensorError(.invalidArgument("softmax needs a non-empty last axis, got \(x.shape)"))
        }
        let n = x.shape[x.rank - 1]
        let out = Storage(uninitializedCount: x.count)
        let input = x.storage.base, output = out.base
        Parallel.forEachChunk(x.count / n, grain: n * 4) { rows in
            for row in rows {
                let source = input + row * n, target = output + row * n
                var maximum = source[0]
                for i in 1..<n where source[i] > maximum { maximum = source[i] }
                VectorMath.map(source, target, n) { VectorMath.exp($0 - maximum) }
                let total = Tensor.sumContiguous(target, n)
                if log {
                    let logTotal = Foundation.log(total) + maximum
                    for i in 0..<n { target[i] = source[i] - logTotal }
                } else {
                    let inverse = 1 / total
                    for i in 0..<n { target[i] *= inverse }
                }
            }
        }
        return Tensor(shape: x.shape, storage: out)
    }
}
