import CKernels

/// A weight matrix [rows, columns] (outputs × inputs) quantized to int8 per output channel:
/// w[j][k] ≈ scales[j] · values[j·columns + k], values in −127…127. A quarter of float32's
/// bytes, and `x.linear(int8:bias:)` multiplies with it in integers. Immutable: a model is
/// quantized after training (`Linear.quantizeToInt8()`), not trained in int8.
public final class Int8Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// Row-major quantized weights (what a file stores).
    public let values: [Int8]
    /// One scale per output channel (row).
    public let scales: [Float]
    /// The values packed for the product's register tile (CKernels/int8_product.c).
    let packed: [Int8]
    /// Σ_k values[j][k] per row: takes the activations' +128 offset out of the sums.
    let columnSums: [Int32]

    /// Quantizes a float weight [rows, columns] symmetrically per row (scale = max|w| / 127).
    public convenience init(quantizing weight: Tensor) throws(TensorError) {
        guard weight.rank == 2 else { throw TensorError(.invalidArgument("int8 quantization needs a weight [out, in], got \(weight.shape)")) }
        let (rows, columns) = (weight.shape[0], weight.shape[1])
        let w = weight.scalars
        var values = [Int8](repeating: 0, count: rows * columns), scales = [Float](repeating: 0, count: rows)
        for j in 0..<rows {
            let row = w[(j * columns)..<((j + 1) * columns)]
            let scale = (row.map(abs).max() ?? 0) / 127
            let inverse = scale > 0 ? 1 / scale : 0
            for (t, value) in row.enumerated() { values[j * columns + t] = Int8((value * inverse).rounded(.toNearestOrEven)) }
            scales[j] = scale
        }
        try self.init(values: values, scales: scales, rows: rows, columns: columns)
    }

    /// A matrix from stored int8 values and per-row scales (e.g. read from a file).
    /// - Throws: when the counts do not match the shape or a value is −128 (outside the
    ///   symmetric range the product's sums are exact for).
    public init(values: [Int8], scales: [Float], rows: Int, columns: Int) throws(TensorError) {
        guard rows > 0, columns > 0, values.count == rows * columns, scales.count == rows else {
            throw TensorError(.invalidArgument("an int8 matrix [\(rows), \(columns)] needs \(rows * columns) values and \(rows) scales, got \(values.count) and \(scales.count)"))
        }
        guard !values.contains(-128) else { throw TensorError(.invalidArgument("int8 weights must lie in −127…127; −128 found")) }
        guard scales.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw TensorError(.invalidArgument("int8 scales must be finite and non-negative")) }
        self.rows = rows
        self.columns = columns
        self.values = values
        self.scales = scales
        var packed = [Int8](repeating: 0, count: orrery_int8_packed_bytes(rows, columns))
        values.withUnsafeBufferPointer { source in
            packed.withUnsafeMutableBufferPointer { orrery_int8_pack(source.baseAddress, rows, columns, $0.baseAddress) }
        }
        self.packed = packed
        columnSums = (0..<rows).map { j in values[(j * columns)..<((j + 1) * columns)].reduce(Int32(0)) { $0 + Int32($1) } }
    }

    public var shape: Shape { Shape([rows, columns]) }

    /// Bytes of the quantized weights and their scales.
    public var byteCount: Int { rows * columns + rows * 4 }

    /// The float weights the int8 values stand for.
    public func dequantized() -> Tensor {
        let storage = Storage(uninitializedCount: rows * columns)
        for j in 0..<rows { for t in 0..<columns { storage.base[j * columns + t] = Float(values[j * columns + t]) * scales[j] } }
        return Tensor(shape: shape, storage: storage)
    }
}
