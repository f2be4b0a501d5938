import Foundation
import Tensor

/// Scaled dot-product attention over `heads` heads (Vaswani et al. 2017), on [B, T, width]:
/// softmax(Q·Kᵀ/√d + mask)·V per head, then an output projection.
public final class MultiHeadAttention: Layer {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    public let heads: Int
    public let width: Int

    public init(width: Int, heads: Int, using generator: inout SplitMix64) {
        precondition(width % heads == 0, "width \(width) must divide into \(heads) heads")
        self.width = width
        self.heads = heads
        query = Linear(width, width, using: &generator)
        key = Linear(width, width, using: &generator)
        value = Linear(width, width, using: &generator)
        output = Linear(width, width, using: &generator)
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor { try callAsFunction(input, mask: nil) }

    /// - Parameter mask: added to the attention scores, broadcastable to [B, heads, T, T],
    ///   e.g. `Tensor.causalMask(T)` or `Tensor.paddingMask(...)` ([B, 1, 1, T]).
    public func callAsFunction(_ input: Tensor, mask: Tensor?) throws(TensorError) -> Tensor {
        guard input.rank == 3, input.shape[2] == width else {
            throw TensorError(.shapeMismatch(operation: "attention input [B, T, \(width)]", input.shape, [0, 0, width]))
        }
        // One product against the stacked weights gives (Q | K | V) side by side in each row.
        let weight = try Tensor.concatenate([query.weight, key.weight, value.weight], axis: 0)
        // The three projections are made together, all with a bias or all without.
        let biases = [query.bias, key.bias, value.bias].compactMap { $0 }
        let bias = biases.isEmpty ? nil : try Tensor.concatenate(biases, axis: 0)
        let packed = try input.linear(weight: weight, bias: bias)
        return try output(Tensor.multiHeadAttention(packed: packed, heads: heads, mask: mask))
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        Self.prefixed("query", query.namedParameters()) + Self.prefixed("key", key.namedParameters())
            + Self.prefixed("value", value.namedParameters()) + Self.prefixed("output", output.namedParameters())
    }
}
