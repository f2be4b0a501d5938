import Foundation
import Tensor

/// Scaled dot-product attention over `heads` heads (Vaswani et al. 2017), on [B, T, width]:
/// softmax(Q·Kᵀ/√d + mask)·V per head, then an output projection. Heads can be removed
/// (`removeHeads`), after which the projections are heads·d wide inside, `width` outside.
public final class MultiHeadAttention: Layer, Int8Quantizable {
    public private(set) var query: Linear
    public private(set) var key: Linear
    public private(set) var value: Linear
    public private(set) var output: Linear
    public private(set) var heads: Int
    public let width: Int
    /// Low-rank updates of the query and value projections (LoRA's usual placement), added
    /// unmerged to the frozen projections while set; `mergeAdapters()` folds them in.
    public private(set) var queryAdapter: LowRankAdapter?
    public private(set) var valueAdapter: LowRankAdapter?
    /// The stacked query, key and value weights in int8, once quantized.
    private var packedInt8: Int8Matrix?

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
        // The three projections are made together, all with a bias or all without.
        let biases = [query.bias, key.bias, value.bias].compactMap { $0 }
        let bias = biases.isEmpty ? nil : try Tensor.concatenate(biases, axis: 0)
        var packed: Tensor
        if let packedInt8 {
            packed = try input.linear(int8: packedInt8, bias: bias)
        } else {
            packed = try input.linear(weight: stackedWeight(), bias: bias)
        }
        if queryAdapter != nil || valueAdapter != nil {
            let none = Tensor.zeros(Shape(input.shape.dimensions.dropLast() + [innerWidth]))
            packed = try packed + Tensor.concatenate(
                [queryAdapter?.delta(input) ?? none, none, valueAdapter?.delta(input) ?? none], axis: -1)
        }
        return try output(Tensor.multiHeadAttention(packed: packed, heads: heads, mask: mask))
    }

    /// Heads × head width: what the query, key and value projections produce.
    public var innerWidth: Int { query.weight.shape[0] }

    /// How much each head can contribute: ‖its value rows‖ · ‖its output columns‖ (Frobenius),
    /// the path its output takes; queries and keys only route it. A data-free proxy for the
    /// gradient-based importance of Michel et al. (2019).
    public func headImportance() -> [Float] {
        let d = innerWidth / heads
        let headValues = StructuredPruning.blockNorms(value.weight, rows: d)
        let headOutputs = StructuredPruning.blockNorms(output.weight, columns: d)
        return zip(headValues, headOutputs).map { $0 * $1 }
    }

    /// Removes every head not in `kept` (distinct indices, at least one): their rows of the
    /// query, key and value projections and their columns of the output projection. The
    /// layer computes what it computed with those heads' outputs set to zero, with fewer
    /// multiply-adds. Drops any int8 weights (quantize again afterwards).
    /// - Throws: while adapters are attached, or for kept heads that do not exist.
    public func removeHeads(keeping kept: [Int]) throws(TensorError) {
        guard queryAdapter == nil, valueAdapter == nil else { throw TensorError(.invalidArgument("merge the LoRA adapters before removing heads")) }
        guard !kept.isEmpty, kept.allSatisfy({ (0..<heads).contains($0) }), Set(kept).count == kept.count else {
            throw TensorError(.invalidArgument("kept heads must be distinct indices in 0..<\(heads), at least one"))
        }
        let d = innerWidth / heads
        let rows = kept.flatMap { ($0 * d)..<(($0 + 1) * d) }
        func narrowed(_ projection: Linear) throws(TensorError) -> Linear {
            try Linear(weight: StructuredPruning.select(projection.weight, rows: rows), bias: projection.bias.map { (b) throws(TensorError) in try StructuredPruning.select(b, rows: rows) })
        }
        dropInt8()
        (query, key, value) = (try narrowed(query), try narrowed(key), try narrowed(value))
        output = Linear(weight: try StructuredPruning.select(output.weight, columnBlocks: kept, block: d), bias: output.bias.map(StructuredPruning.fresh))
        heads = kept.count
    }

    private func stackedWeight() throws(TensorError) -> Tensor {
        try Tensor.concatenate([query.weight, key.weight, value.weight], axis: 0)
    }

    /// Quantizes the stacked query/key/value weights and the output projection to int8.
    /// - Throws: while adapters are attached (merge them first).
    public func quantizeToInt8() throws(TensorError) {
        guard queryAdapter == nil, valueAdapter == nil else {
            throw TensorError(.invalidArgument("merge the LoRA adapters before quantizing attention to int8"))
        }
        packedInt8 = try Int8Matrix(quantizing: stackedWeight())
        try output.quantizeToInt8()
    }

    public func dropInt8() {
        packedInt8 = nil
        output.dropInt8()
    }

    /// Attaches fresh rank-`rank` adapters to the query and value projections.
    public func attachAdapters(rank: Int, alpha: Float, using generator: inout SplitMix64) {
        queryAdapter = LowRankAdapter(inputs: width, outputs: innerWidth, rank: rank, alpha: alpha, using: &generator)
        valueAdapter = LowRankAdapter(inputs: width, outputs: innerWidth, rank: rank, alpha: alpha, using: &generator)
    }

    /// Adds the adapters' updates into the query and value weights and removes them: the
    /// layer then computes what it computed with them, at no extra cost.
    public func mergeAdapters() throws(TensorError) {
        try queryAdapter?.merge(into: query.weight)
        try valueAdapter?.merge(into: value.weight)
        queryAdapter = nil
        valueAdapter = nil
    }

    /// The adapters' parameters (`query.lora_A`, …), empty when none are attached.
    public func adapterParameters() -> [(name: String, tensor: Tensor)] {
        (queryAdapter.map { Self.prefixed("query", $0.namedParameters()) } ?? [])
            + (valueAdapter.map { Self.prefixed("value", $0.namedParameters()) } ?? [])
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        Self.prefixed("query", query.namedParameters()) + Self.prefixed("key", key.namedParameters())
            + Self.prefixed("value", value.namedParameters()) + Self.prefixed("output", output.namedParameters())
    }
}
