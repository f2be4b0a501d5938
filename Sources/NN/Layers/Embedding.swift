import Tensor

/// A lookup table of learned vectors, one row per token id (PyTorch `nn.Embedding`,
/// initialized N(0, 1)).
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ vocabulary: Int, _ width: Int, using generator: inout SplitMix64) {
        weight = Tensor.normal([vocabulary, width], using: &generator).requiringGrad()
    }

    /// Vectors for `ids`, shaped `shape + [width]` (default [ids.count, width]).
    public func callAsFunction(_ ids: [Int], shape: Shape? = nil) throws(TensorError) -> Tensor {
        try weight.embedding(ids, shape: shape)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("weight", weight)] }
}
