import Tensor

/// Updates parameters in place from their accumulated gradients.
///
/// Each optimizer keeps its per-parameter state (momentum, moments) in arrays aligned with
/// the parameters it was made with, and the learning rate is a public variable so that a
/// schedule can set it before each step.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient; parameters without one are left alone.
    func step()
}

extension Optimizer {
    /// Scales all gradients together so that their global L2 norm is at most `maxNorm`;
    /// returns the norm before clipping.
    @discardableResult
    public static func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
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
}
