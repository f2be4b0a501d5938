import Tensor

/// Checks autodiff against central finite differences.
///
/// The function's output is reduced to a scalar with fixed random weights, L = Σ w ⊙ f(x),
/// so one backward pass checks the whole Jacobian against the weights; then each input
/// element is nudged by ±ε and L recomputed. Float32 arithmetic bounds the agreement, so
/// tolerances are relative plus absolute.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible, Sendable {
        public let input: Int
        public let index: Int
        public let analytic: Float
        public let numeric: Float
        public var description: String { "input \(input)[\(index)]: autodiff \(analytic), finite difference \(numeric)" }
    }

    /// - Returns: every element whose gradients disagree (empty when they agree).
    public static func mismatches(
        _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2, seed: UInt64 = 7,
        _ function: ([Tensor]) throws -> Tensor
    ) throws -> [Mismatch] {
        let leaves = inputs.map { $0.requiringGrad() }
        let output = try function(leaves)
        var generator = SplitMix64(seed: seed)
        let weights = Tensor.normal(output.shape, using: &generator)
        try (output * weights).sum().backward()

        var mismatches: [Mismatch] = []
        for (inputIndex, leaf) in leaves.enumerated() {
            let analytic = leaf.grad?.scalars ?? Array(repeating: 0, count: leaf.count)
            for index in 0..<leaf.count {
                let original = leaf.storage.withUnsafeBufferPointer { $0[index] }
                func loss(_ value: Float) throws -> Float {
                    leaf.storage.withUnsafeMutableBufferPointer { $0[index] = value }
                    return try withNoGrad { try (function(leaves.map { $0.detached() }) * weights).sum().item }
                }
                let numeric = (try loss(original + epsilon) - loss(original - epsilon)) / (2 * epsilon)
                leaf.storage.withUnsafeMutableBufferPointer { $0[index] = original }
                if abs(analytic[index] - numeric) > tolerance * (1 + abs(numeric)) {
                    mismatches.append(Mismatch(input: inputIndex, index: index, analytic: analytic[index], numeric: numeric))
                }
            }
        }
        return mismatches
    }
}

extension GradientCheck {
    /// The same check for parameters a function reads itself (a layer's adapters, say):
    /// each given leaf is nudged in place. `stride` checks every stride-th element only.
    /// - Returns: every checked element whose gradients disagree.
    public static func parameterMismatches(
        _ parameters: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2, stride: Int = 1, seed: UInt64 = 7,
        _ function: () throws -> Tensor
    ) throws -> [Mismatch] {
        parameters.forEach { $0.zeroGrad() }
        let output = try function()
        var generator = SplitMix64(seed: seed)
        let weights = Tensor.normal(output.shape, using: &generator)
        try (output * weights).sum().backward()
        var mismatches: [Mismatch] = []
        for (parameterIndex, parameter) in parameters.enumerated() {
            let analytic = parameter.grad?.scalars ?? Array(repeating: 0, count: parameter.count)
            for index in Swift.stride(from: 0, to: parameter.count, by: max(1, stride)) {
                let original = parameter.storage.withUnsafeBufferPointer { $0[index] }
                func loss(_ value: Float) throws -> Float {
                    parameter.storage.withUnsafeMutableBufferPointer { $0[index] = value }
                    return try withNoGrad { try (function() * weights).sum().item }
                }
                let numeric = (try loss(original + epsilon) - loss(original - epsilon)) / (2 * epsilon)
                parameter.storage.withUnsafeMutableBufferPointer { $0[index] = original }
                if abs(analytic[index] - numeric) > tolerance * (1 + abs(numeric)) {
                    mismatches.append(Mismatch(input: parameterIndex, index: index, analytic: analytic[index], numeric: numeric))
                }
            }
        }
        return mismatches
    }
}

extension GradientCheck {
    /// Second-order check: the Hessian-vector product that differentiating a
    /// `createGraph` gradient gives, against central differences of first-order gradients
    /// along the same direction, (∇f(x + εv) − ∇f(x − εv)) / 2ε, for f = Σ w ⊙ function(x)
    /// with random weights w and a random direction v.
    /// - Returns: every element whose products disagree (empty when they agree).
    public static func hessianVectorMismatches(
        _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 3e-2, seed: UInt64 = 11,
        _ function: ([Tensor]) throws -> Tensor
    ) throws -> [Mismatch] {
        var generator = SplitMix64(seed: seed)
        let leaves = inputs.map { Tensor(shape: $0.shape, storage: $0.storage.copy()).requiringGrad() }
        let weights = Tensor.normal(try function(leaves).shape, using: &generator)
        let direction = inputs.map { Tensor.normal($0.shape, using: &generator) }
        func scalar(_ x: [Tensor]) throws -> Tensor { try (function(x) * weights).sum() }

        let gradients = try scalar(leaves).gradients(withRespectTo: leaves, createGraph: true)
        var along = Tensor(scalar: 0)
        for (gradient, v) in zip(gradients, direction) { along = try along + (gradient * v).sum() }
        let analytic = try along.gradients(withRespectTo: leaves)

        func firstOrder(shift: Float) throws -> [Tensor] {
            let shifted = try zip(inputs, direction).map { (x, v) throws in try (x + v * shift).detached().requiringGrad() }
            return try scalar(shifted).gradients(withRespectTo: shifted)
        }
        let plus = try firstOrder(shift: epsilon), minus = try firstOrder(shift: -epsilon)
        var mismatches: [Mismatch] = []
        for input in inputs.indices {
            let numeric = zip(plus[input].scalars, minus[input].scalars).map { ($0 - $1) / (2 * epsilon) }
            for (index, (a, n)) in zip(analytic[input].scalars, numeric).enumerated() where abs(a - n) > tolerance * (1 + abs(n)) {
                mismatches.append(Mismatch(input: input, index: index, analytic: a, numeric: n))
            }
        }
        return mismatches
    }
}

/// Whether two float arrays agree elementwise within `tolerance` (relative plus absolute).
public func allClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * (1 + abs($1)) }
}
