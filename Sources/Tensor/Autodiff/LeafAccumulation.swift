import Foundation

/// While `backward()` runs, an operation whose gradient for a parameter is a matrix product
/// may add that product straight into the parameter's existing gradient (a GEMM with
/// β = 1) instead of returning a new tensor that the tape then adds: gradient accumulation
/// over micro-batches then costs no extra pass over each weight gradient and no
/// allocation. Only `backward()` turns it on; `gradients(withRespectTo:)` returns
/// gradients and never touches a leaf. Per thread.
enum LeafAccumulation {
    private static let key = "orrery.tensor.leafAccumulation"

    static var isActive: Bool { Thread.current.threadDictionary[key] as? Bool ?? false }

    static func during<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[key] as? Bool ?? false
        dictionary[key] = true
        defer { dictionary[key] = previous }
        return try body()
    }

    /// The gradient storage of `parameter` to add into, when accumulation is on and the
    /// parameter is an unfrozen leaf that already holds a gradient of `shape`.
    static func target(_ parameter: Tensor, shape: Shape) -> Storage? {
        guard isActive, let node = parameter.node, node.isLeaf, !node.frozen, let grad = node.grad, grad.shape == shape else { return nil }
        return grad.storage
    }
}
