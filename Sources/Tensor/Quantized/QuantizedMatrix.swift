import Foundation

/// A weight matrix [rows, columns] kept in a block encoding, read in place from the bytes
/// that hold it (a memory-mapped model file): `x.matmul(transposed:)` multiplies with it
/// without decoding it to float32, so a product reads 5 or 8.5 bits per weight instead of
/// 32 — what bounds decoding speed on a CPU.
public struct QuantizedMatrix: @unchecked Sendable {
    public let format: BlockFormat
    public let rows: Int
    public let columns: Int
    /// The encoded bytes live at `offset` in `data` (kept alive, and mapped, as long as the
    /// matrix is).
    let data: Data
    let offset: Int

    /// - Throws: when rows are not whole blocks or the bytes end before the matrix does.
    public init(format: BlockFormat, rows: Int, columns: Int, data: Data, offset: Int) throws(TensorError) {
        guard rows > 0, columns > 0, columns % BlockFormat.blockSize == 0 else {
            throw TensorError(.invalidArgument("a \(format) matrix needs rows of whole \(BlockFormat.blockSize)-weight blocks, got [\(rows), \(columns)]"))
        }
        let end = offset + format.byteCount(of: rows * columns)
        guard offset >= 0, end <= data.count else {
            throw TensorError(.invalidArgument("a \(format) matrix [\(rows), \(columns)] at byte \(offset) needs \(end) bytes, the buffer has \(data.count)"))
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        self.data = data
        self.offset = offset
    }

    /// Bytes of the encoded matrix.
    public var byteCount: Int { format.byteCount(of: rows * columns) }

    public var shape: Shape { Shape([rows, columns]) }

    /// Bytes of one encoded row.
    var rowBytes: Int { format.byteCount(of: columns) }

    func withBytes<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        data.withUnsafeBytes { raw in body(raw.baseAddress! + offset) }
    }

    /// The whole matrix as float32, decoded across threads.
    public func dequantized() -> Tensor {
        let storage = Storage(uninitializedCount: rows * columns)
        nonisolated(unsafe) let out = storage.base
        let (format, columns, rowBytes) = (format, columns, rowBytes)
        data.withUnsafeBytes { raw in
            nonisolated(unsafe) let base = raw.baseAddress! + offset
            Parallel.forEachChunk(rows, grain: columns) { range in
                format.dequantize(base + range.lowerBound * rowBytes, count: range.count * columns, into: out + range.lowerBound * columns)
            }
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// Rows `ids` decoded, [ids.count, columns] (an embedding lookup).
    /// - Throws: naming the first id outside the matrix.
    public func rows(_ ids: [Int]) throws(TensorError) -> Storage {
        if let bad = ids.first(where: { !(0..<rows).contains($0) }) {
            throw TensorError(.invalidArgument("row \(bad) is outside 0..<\(rows)"))
        }
        let storage = Storage(uninitializedCount: ids.count * columns)
        let out = storage.base
        data.withUnsafeBytes { raw in
            for (index, row) in ids.enumerated() {
                format.dequantize(raw.baseAddress! + offset + row * rowBytes, count: columns, into: out + index * columns)
            }
        }
        return storage
    }
}
