extension Tensor {
    /// Layer normalization over the last axis: (x − mean) / √(var + ε) · γ + β, fused, with
    /// the closed-form backward (one pass for dx, sums for dγ and dβ).
    public func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) throws(TensorError) -> Tensor {
        try normalized(weight: weight, bias: bias, epsilon: epsilon, centered: true)
    }

    /// RMS normalization over the last axis (Llama): x / √(mean(x²) + ε) · γ.
    public func rmsNorm(weight: Tensor, epsilon: Float = 1e-6) throws(TensorError) -> Tensor {
        try normalized(weight: weight, bias: nil, epsilon: epsilon, centered: false)
    }

    private func normalized(weight: Tensor, bias: Tensor?, epsilon: Float, centered: Bool) throws(TensorError) -> Tensor {
        guard rank >= 1 else { throw TensorError(.invalidArgument("normalization needs at least one axis")) }
        let n = shape[rank - 1]
        guard weight.shape == [n], bias.map({ $0.shape == [n] }) ?? true else {
            throw TensorError(.shapeMismatch(operation: centered ? "layer norm weight" : "RMS norm weight", weight.shape, [n]))
        }
        let rows = count / Swift.max(n, 1)
        let out = Storage(uninitializedCount: count)
        let normalizedValues = Storage(uninitializedCount: count)  // x̂, kept for backward
        var inverseScale = [Float](repeating: 0, count: rows)
        let x = storage.base, y = out.base, xhat = normalizedValues.base, gamma = weight.storage.base
        let beta = bias?.storage.base
        // Rows are independent: split across threads, eight lanes at a time within a row.
        inverseScale.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let scales = buffer
            Parallel.forEachChunk(rows, grain: n * 4) { range in
                for row in range {
                    let (source, normal, target) = (x + row * n, xhat + row * n, y + row * n)
                    let mean = centered ? Tensor.sumContiguous(source, n) / Float(n) : 0
                    let r = 1 / (Self.sumOfSquares(source, n, around: mean) / Float(n) + epsilon).squareRoot()
                    scales[row] = r
                    Self.normalizeRow(source, n, mean: mean, scale: r, gamma: gamma, beta: beta, normalized: normal, output: target)
                }
            }
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        let shape = self.shape
        // The closure keeps the storages it reads alive: pointers alone would not.
        let keptNormalized = normalizedValues, keptWeight = weight.storage
        let input = self
        // The same closed form in recorded operations, x̂ and r recomputed from the input.
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let centeredX = centered ? try input - input.mean(axis: -1, keepDimensions: true) : input
            let r = try (centeredX.squared().mean(axis: -1, keepDimensions: true) + epsilon).pow(-0.5)
            let xhat = try centeredX * r
            let d = try g * weight
            let meanD = centered ? try d.mean(axis: -1, keepDimensions: true) : Tensor(scalar: 0)
            let dx = needs[0] ? try r * (d - meanD - xhat * (d * xhat).mean(axis: -1, keepDimensions: true)) : nil
            let dgamma = needs[1] ? try (g * xhat).reduced(to: [n]) : nil
            let dbeta = needs.count > 2 && needs[2] ? try g.reduced(to: [n]) : nil
            return [dx, dgamma] + (needs.count > 2 ? [dbeta] : [])
        }
        return Self.recording(shape, out, inputs: inputs, secondOrder: .rule(secondOrder)) { (g, needs) throws(TensorError) in
            let dy = g.storage.base, xhat = keptNormalized.base, gamma = keptWeight.base
            var grads: [Tensor?] = Array(repeating: nil, count: needs.count)
            if needs[1] {
                let dgamma = Storage(count: n)
                for row in 0..<rows { for i in 0..<n { dgamma.base[i] += dy[row * n + i] * xhat[row * n + i] } }
                grads[1] = Tensor(shape: [n], storage: dgamma)
            }
            if needs.count > 2 && needs[2] {
                let dbeta = Storage(count: n)
                for row in 0..<rows { for i in 0..<n { dbeta.base[i] += dy[row * n + i] } }
                grads[2] = Tensor(shape: [n], storage: dbeta)
            }
            if needs[0] {
                // dx = r · (d − mean(d) − x̂ · mean(d ⊙ x̂)) with d = dy ⊙ γ; no mean(d) term for RMS.
                let dx = Storage(uninitializedCount: rows * n)
                for row in 0..<rows {
                    var meanD: Float = 0, meanDX: Float = 0
                    for i in 0..<n {
                        let d = dy[row * n + i] * gamma[i]
                        meanD += d
                        meanDX += d * xhat[row * n + i]
                    }
                    meanD = centered ? meanD / Float(n) : 0
                    meanDX /= Float(n)
                    let r = inverseScale[row]
                    for i in 0..<n {
                        let d = dy[row * n + i] * gamma[i]
                        dx.base[row * n + i] = r * (d - meanD - xhat[row * n + i] * meanDX)
                    }
                }
                grads[0] = Tensor(shape: shape, storage: dx)
            }
            return grads
        }
    }
}

extension Tensor {
    typealias Lanes = SIMD8<Float>

    /// Σ (xᵢ − mean)², in eight lanes.
    @inline(__always)
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int, around mean: Float) -> Float {
        var lanes = Lanes(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) - mean
            lanes += d * d
            i += 8
        }
        var total = lanes.sum()
        while i < n {
            total += (x[i] - mean) * (x[i] - mean)
            i += 1
        }
        return total
    }

    /// x̂ = (x − mean)·r and y = x̂·γ + β for one row, in eight lanes.
    @inline(__always)
    static func normalizeRow(
        _ x: UnsafePointer<Float>, _ n: Int, mean: Float, scale r: Float, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        normalized: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        var i = 0
        while i + 8 <= n {
            let h = (UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) - mean) * r
            var value = h * UnsafeRawPointer(gamma + i).loadUnaligned(as: Lanes.self)
            if let beta { value += UnsafeRawPointer(beta + i).loadUnaligned(as: Lanes.self) }
            UnsafeMutableRawPointer(normalized + i).storeBytes(of: h, as: Lanes.self)
            UnsafeMutableRawPointer(output + i).storeBytes(of: value, as: Lanes.self)
            i += 8
        }
        while i < n {
            let h = (x[i] - mean) * r
            normalized[i] = h
            output[i] = h * gamma[i] + (beta?[i] ?? 0)
            i += 1
        }
    }
}
