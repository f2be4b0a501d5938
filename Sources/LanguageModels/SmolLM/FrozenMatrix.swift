import NN
import Tensor

/// How a quantized model's weight matrices are held in memory.
public enum WeightMode: String, Sendable, CaseIterable {
    /// Decoded to float32 once at load: fastest, 4 bytes a weight.
    case dequantized
    /// Kept in the file's encoding (memory-mapped) and decoded just before each product:
    /// ~0.6 bytes a weight for Q4_1, paid for with decoding on every forward pass.
    case quantized
}

/// A frozen weight matrix [out, in] of a pretrained model: `apply(x)` is x · Wᵀ. Held as a
/// float32 tensor or still encoded (see `WeightMode`). Gradients flow to x, never to W.
public struct FrozenMatrix: @unchecked Sendable {
    enum Source {
        case dense(Tensor)
        case encoded(QuantizedTensor)
    }

    let source: Source
    public let shape: Shape

    init(_ file: GGUFFile, _ name: String, shape expected: [Int], mode: WeightMode) throws(TensorError) {
        let view = try file.view(name)
        guard view.info.shape == expected else {
            throw TensorError(.badFile(path: file.path, detail: "tensor '\(name)' is \(view.info.shape), the model needs \(expected)"))
        }
        shape = Shape(expected)
        source = mode == .dequantized || view.info.type == .f32 ? .dense(try file.tensor(name)) : .encoded(view)
    }

    /// The matrix as float32 (decoded now when kept encoded).
    public func matrix() -> Tensor {
        switch source {
        case .dense(let tensor): return tensor
        case .encoded(let view):
            let storage = Storage(count: shape.count)
            storage.withUnsafeMutableBufferPointer { view.dequantize(into: $0.baseAddress!) }
            return Tensor(shape: shape, storage: storage)
        }
    }

    /// x · Wᵀ for x [..., in].
    public func apply(_ x: Tensor) throws(TensorError) -> Tensor { try x.matmul(matrix(), transposeB: true) }

    /// Rows `ids` of the matrix (an embedding table), [ids.count, in], decoding only those
    /// rows when kept encoded.
    public func rows(_ ids: [Int], shape leading: Shape) throws(TensorError) -> Tensor {
        switch source {
        case .dense(let tensor): return try tensor.embedding(ids, shape: leading)
        case .encoded(let view):
            if let bad = ids.first(where: { !(0..<shape[0]).contains($0) }) {
                throw TensorError(.invalidArgument("token id \(bad) is outside 0..<\(shape[0])"))
            }
            let storage = Storage(count: ids.count * shape[1])
            storage.withUnsafeMutableBufferPointer { view.dequantize(rows: ids, into: $0.baseAddress!) }
            return Tensor(shape: Shape(leading.dimensions + [shape[1]]), storage: storage)
        }
    }

    /// Adds a low-rank adapter's update into the matrix in place (LoRA's merge).
    /// - Throws: when the matrix is kept encoded.
    func add(_ adapter: LowRankAdapter) throws(TensorError) {
        guard case .dense(let tensor) = source else {
            throw TensorError(.invalidArgument("a LoRA update cannot be merged into a quantized matrix; load the model dequantized"))
        }
        try adapter.merge(into: tensor)
    }

    /// Bytes this matrix keeps resident (encoded bytes are file pages, mapped on demand).
    public var residentBytes: Int {
        switch source {
        case .dense(let tensor): tensor.count * 4
        case .encoded(let view): view.byteCount
        }
    }
}
