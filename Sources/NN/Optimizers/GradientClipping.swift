import Tensor

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`, and
/// returns the norm before clipping. Parameters without a gradient are skipped.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        grad.storage.withUnsafeBufferPointer { for value in $0 { total += Double(value) * Double(value) } }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm && norm > 0 {
        let scale = maxNorm / norm
        for parameter in parameters {
            parameter.grad?.storage.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= scale } }
        }
    }
    return norm
}
