import Tensor

/// A post-norm transformer encoder layer, as in BERT and PyTorch's default
/// `nn.TransformerEncoderLayer`: x ← LN(x + Drop(Attention(x))); x ← LN(x + Drop(FFN(x)))
/// with FFN = Linear(width, feedForward) · GELU · Linear(feedForward, width).
public final class TransformerEncoderLayer: Layer, Int8Quantizable {
    public let attention: MultiHeadAttention
    public let norm1: LayerNorm
    public private(set) var expand: Linear
    public private(set) var contract: Linear
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

    /// Each feed-forward neuron's ‖expand row and bias‖ · ‖contract column‖ (as
    /// `StructuredPruning` ranks hidden neurons; GELU is nearly linear for large inputs).
    public func feedForwardImportance() -> [Float] {
        let incoming = StructuredPruning.blockNorms(expand.weight, rows: 1), outgoing = StructuredPruning.blockNorms(contract.weight, columns: 1)
        let bias = expand.bias?.scalars
        return incoming.indices.map { j in ((incoming[j] * incoming[j] + (bias.map { $0[j] * $0[j] } ?? 0)).squareRoot()) * outgoing[j] }
    }

    /// Removes the feed-forward neurons not in `kept`: rows of `expand`, columns of
    /// `contract`. Drops any int8 weights of the two (quantize again afterwards).
    public func removeFeedForwardNeurons(keeping kept: [Int]) throws(TensorError) {
        let width = expand.weight.shape[0]
        guard !kept.isEmpty, kept.allSatisfy({ (0..<width).contains($0) }), Set(kept).count == kept.count else {
            throw TensorError(.invalidArgument("kept feed-forward neurons must be distinct indices in 0..<\(width), at least one"))
        }
        expand = Linear(
            weight: try StructuredPruning.select(expand.weight, rows: kept),
            bias: try expand.bias.map { (b) throws(TensorError) in try StructuredPruning.select(b, rows: kept) })
        contract = Linear(weight: try StructuredPruning.select(contract.weight, columnBlocks: kept, block: 1), bias: contract.bias.map(StructuredPruning.fresh))
    }

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
