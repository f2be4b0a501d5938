import NN
import Tensor

/// How a quantized model's weight matrices are held in memory.
public enum WeightMode: String, Sendable, CaseIterable {
    /// Decoded to float32 once at load: fastest, 4 bytes a weight.
    case dequantized
    /// Kept in the file's encoding (memory-mapped) and multiplied in place
    /// (`Tensor.matmul(transposed:)`): ~0.6 bytes a weight for Q4_1, and decoding a token
    /// reads 5 bits a weight instead of 32.
    case quantized
}

/// A frozen weight matrix [out, in] of a pretrained model: `apply(x)` is x · Wᵀ. Held as a
/// float32 tensor or still encoded (see `WeightMode`). Gradients flow to x, never to W.
public struct FrozenMatrix: @unchecked Sendable {
    enum Source {
        case dense(Tensor)
        case encoded(QuantizedMatrix)
    }

    let source: Source
    public let shape: Shape

    init(_ file: GGUFFile, _ name: String, shape expected: [Int], mode: WeightMode) throws(TensorError) {
        let info = try file.info(name)
        guard info.shape == expected else {
            throw TensorError(.badFile(path: file.path, detail: "tensor '\(name)' is \(info.shape), the model needs \(expected)"))
        }
        shape = Shape(expected)
        source = mode == .dequantized || info.type.blockFormat == nil ? .dense(try file.tensor(name)) : .encoded(try file.quantizedMatrix(name))
    }

    /// The matrix as float32 (decoded now when kept encoded).
    public func matrix() -> Tensor {
        switch source {
        case .dense(let tensor): return tensor
        case .encoded(let matrix): return matrix.dequantized()
        }
    }

    /// x · Wᵀ for x [..., in], in place on the encoded bytes when kept encoded.
    public func apply(_ x: Tensor) throws(TensorError) -> Tensor {
        switch source {
        case .dense(let tensor): try x.matmul(tensor, transposeB: true)
        case .encoded(let matrix): try x.matmul(transposed: matrix)
        }
    }

    /// Rows `ids` of the matrix (an embedding table), [ids.count, in], decoding only those
    /// rows when kept encoded.
    public func rows(_ ids: [Int], shape leading: Shape) throws(TensorError) -> Tensor {
        switch source {
        case .dense(let tensor): return try tensor.embedding(ids, shape: leading)
        case .encoded(let matrix):
            if let bad = ids.first(where: { !(0..<shape[0]).contains($0) }) {
                throw TensorError(.invalidArgument("token id \(bad) is outside 0..<\(shape[0])"))
            }
            return Tensor(shape: Shape(leading.dimensions + [shape[1]]), storage: try matrix.rows(ids))
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
        case .encoded(let matrix): matrix.byteCount
        }
    }
}
