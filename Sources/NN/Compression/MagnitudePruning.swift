import Tensor

/// Unstructured magnitude pruning (Han et al. 2015): the weights of smallest magnitude in
/// a model's linear and convolution weight matrices are set to zero and kept there while
/// the model fine-tunes. Pruned iteratively (sparsity raised over several rounds with
/// fine-tuning between) a network keeps its accuracy at far higher sparsity than pruned at
/// once. The model stays dense in memory: zeros take as long to multiply as any weight, so
/// this makes the stored model smaller (sparse encoding), not faster — `StructuredPruning` is
/// the kind that runs faster.
public struct MagnitudePruning {
    /// One 0/1 mask per pruned weight, in `weights` order.
    public private(set) var masks: [[Float]]
    /// The pruned weights: every parameter named `…weight` of rank 2 or more (biases and
    /// norms are left dense, as is usual).
    public let weights: [Tensor]

    /// Masks that prune the `sparsity` fraction of smallest-magnitude weights, ranked over
    /// all pruned tensors at once (global) or within each (per layer).
    public init(_ model: some Module, sparsity: Double, global: Bool = true) throws(TensorError) {
        guard (0..<1).contains(sparsity) else { throw TensorError(.invalidArgument("sparsity must be in [0, 1), got \(sparsity)")) }
        weights = model.namedParameters().filter { $0.name.hasSuffix("weight") && $0.tensor.rank >= 2 }.map(\.tensor)
        masks = weights.map { [Float](repeating: 1, count: $0.count) }
        let groups = global ? [Array(weights.indices)] : weights.indices.map { [$0] }
        for group in groups {
            var magnitudes: [(value: Float, tensor: Int, index: Int)] = []
            for t in group { magnitudes += weights[t].scalars.enumerated().map { (abs($0.element), t, $0.offset) } }
            // Smallest first; ties broken by position so the masks never depend on sort stability.
            magnitudes.sort { ($0.value, $0.tensor, $0.index) < ($1.value, $1.tensor, $1.index) }
            for entry in magnitudes.prefix(Int(Double(magnitudes.count) * sparsity)) { masks[entry.tensor][entry.index] = 0 }
        }
    }

    /// Zeroes the pruned weights in place (after each optimizer step while fine-tuning: the
    /// optimizer's momentum would otherwise revive them).
    public func apply() {
        for (weight, mask) in zip(weights, masks) {
            weight.storage.withUnsafeMutableBufferPointer { values in
                for i in values.indices where mask[i] == 0 { values[i] = 0 }
            }
        }
    }

    /// The fraction of the pruned tensors' weights that are zero now.
    public var sparsity: Double {
        let total = weights.reduce(0) { $0 + $1.count }
        let zeros = weights.reduce(0) { $0 + $1.scalars.filter { $0 == 0 }.count }
        return Double(zeros) / Double(Swift.max(1, total))
    }

    /// Bytes of `model` stored with its pruned weights in compressed sparse rows (float32
    /// values, 16-bit column indices, 32-bit row starts) and every other parameter dense.
    public static func sparseBytes(_ model: some Module) -> Int {
        model.namedParameters().reduce(0) { total, entry in
            let tensor = entry.tensor
            guard entry.name.hasSuffix("weight"), tensor.rank >= 2 else { return total + 4 * tensor.count }
            let nonzero = tensor.scalars.filter { $0 != 0 }.count
            return total + 6 * nonzero + 4 * (tensor.shape[0] + 1)
        }
    }
}
