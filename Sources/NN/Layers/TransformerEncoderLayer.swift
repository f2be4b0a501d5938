import Tensor

/// A post-norm transformer encoder layer, as in BERT and PyTorch's default
/// `nn.TransformerEncoderLayer`: x ← LN(x + Drop(Attention(x))); x ← LN(x + Drop(FFN(x)))
/// with FFN = Linear(width, feedForward) · GELU · Linear(feedForward, width).
public final class TransformerEncoderLayer: Layer, Int8Quantizable {
    public let attention: MultiHeadAttention
    public let norm1: LayerNorm
    public let expand: Linear
    public let contract: Linear
    public let norm2: LayerNorm
    public let dropout: Dropout

    public init(width: Int, heads: Int, feedForward: Int, dropout: Float = 0, epsilon: Float = 1e-5, using generator: inout SplitMix64) {
        attention = MultiHeadAttention(width: width, heads: heads, using: &generator)
        norm1 = LayerNorm(width, epsilon: epsilon)
        expand = Linear(width, feedForward, using: &generator)
        contract = Linear(feedForward, width, using: &generator)
        norm2 = LayerNorm(width, epsilon: epsilon)
        self.dropout = Dropout(dropout, seed: generator.next())
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor { try callAsFunction(input, mask: nil) }

    public func quantizeToInt8() throws(TensorError) { try Self.quantizing(parts) }

    public func dropInt8() { parts.forEach { $0.dropInt8() } }

    private var parts: [any Int8Quantizable] { [attention, expand, contract] }

    public func callAsFunction(_ input: Tensor, mask: Tensor?) throws(TensorError) -> Tensor {
        let attended = try norm1(input + dropout(attention(input, mask: mask)))
        let fed = try contract(expand(attended).gelu())
        return try norm2(attended + dropout(fed))
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        Self.prefixed("attention", attention.namedParameters()) + Self.prefixed("norm1", norm1.namedParameters())
            + Self.prefixed("expand", expand.namedParameters()) + Self.prefixed("contract", contract.namedParameters())
            + Self.prefixed("norm2", norm2.namedParameters())
    }

    public func train(_ training: Bool) { dropout.train(training) }
}
