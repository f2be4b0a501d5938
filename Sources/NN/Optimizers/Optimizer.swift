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
