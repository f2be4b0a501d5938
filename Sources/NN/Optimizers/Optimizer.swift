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
    /// Everything the optimizer carries between steps (moments, velocities, step count),
    /// named, so that a checkpoint can save it and training resume exactly.
    var state: [(name: String, values: [Float])] { get }
    /// Restores `state` as saved; throws naming a missing or wrongly sized entry.
    func loadState(_ state: [String: [Float]]) throws(TensorError)
}

extension Optimizer {
    /// Looks up one saved state entry and checks its size.
    func entry(_ state: [String: [Float]], _ name: String, count: Int) throws(TensorError) -> [Float] {
        guard let values = state[name] else {
            throw TensorError(.badFile(path: "optimizer state", detail: "no entry '\(name)'"))
        }
        guard values.count == count else {
            throw TensorError(.badFile(path: "optimizer state", detail: "'\(name)' has \(values.count) values, the optimizer \(count)"))
        }
        return values
    }
}
