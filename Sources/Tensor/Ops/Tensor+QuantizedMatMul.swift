import CKernels
import Synchronization

extension Tensor {
    /// x · Wᵀ for x [..., columns] and a block-encoded W [rows, columns], without decoding W
    /// whole: the product a frozen quantized model's linear layers make.
    ///
    /// Up to `integerRowLimit` rows of x (decoding a token, a few candidates) are quantized
    /// per block to int8 and multiplied block by block in integers, reading W's encoded
    /// bytes once; more rows decode W a panel at a time into a small buffer for the float
    /// kernel, so the decoding is shared by all the rows. Gradients flow to x (through the
    /// decoded W), never to W.
    public func matmul(transposed weights: QuantizedMatrix) throws(TensorError) -> Tensor {
        guard rank >= 1, shape[rank - 1] == weights.columns else {
            throw TensorError(.shapeMismatch(operation: "quantized product x · Wᵀ", shape, weights.shape))
        }
        let rows = count / weights.columns
        let out = Storage(uninitializedCount: rows * weights.rows)
        try Self.quantizedProduct(storage.base, rows: rows, weights, into: out.base)
        let resultShape = Shape(shape.dimensions.dropLast() + [weights.rows])
        func adjoint(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] { [try g.matmul(weights.dequantized())] }
        return Self.recording(resultShape, out, inputs: [self], secondOrder: .rule(adjoint)) { (g, _) throws(TensorError) in
            [try Self.matmulKernel(g, weights.dequantized(), transposeA: false, transposeB: false)]
        }
    }

    /// Rows of x up to which the product runs in integers: the integer code reads a weight
    /// row once for up to four activation rows; beyond that, one decoded panel serves every
    /// row at the float kernel's speed.
    static let integerRowLimit = 4

    /// Weight rows decoded per panel: 64 rows of 1,536 floats (384 KiB) stay in L2.
    static let panelRows = 64

    static func quantizedProduct(_ x: UnsafePointer<Float>, rows m: Int, _ w: QuantizedMatrix, into y: UnsafeMutablePointer<Float>) throws(TensorError) {
        let (n, k) = (w.rows, w.columns)
        guard m > 0 else { return }
        let threads = Swift.min(Parallel.threadCount, Swift.max(1, m * n * k / (1 << 17)))
        let size = (n + threads - 1) / threads
        nonisolated(unsafe) let (x, y) = (x, y)
        let useIntegers = m <= integerRowLimit || orrery_sgemm_supported() == 0
        let failed = Atomic<Bool>(false)
        w.withBytes { bytes in
            nonisolated(unsafe) let bytes = bytes
            if useIntegers {
                var blocks = [UInt8](repeating: 0, count: m * (k / BlockFormat.blockSize) * Int(ORRERY_Q8_BLOCK_BYTES))
                blocks.withUnsafeMutableBytes { activations in
                    orrery_quantize_rows_q8(x, m, k, activations.baseAddress!)
                    nonisolated(unsafe) let activations = UnsafeRawPointer(activations.baseAddress!)
                    Parallel.run(chunks: threads, threads: threads) { chunk in
                        let begin = chunk * size, end = Swift.min(n, begin + size)
                        if begin < end { orrery_quantized_dot_rows(w.format.code, m, k, activations, bytes, y, n, begin, end) }
                    }
                }
                return
            }
            Parallel.run(chunks: threads, threads: threads) { chunk in
                let begin = chunk * size, end = Swift.min(n, begin + size)
                guard begin < end else { return }
                let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * k)
                defer { panel.deallocate() }
                if orrery_quantized_panel_product(w.format.code, m, k, x, bytes, y, n, begin, end, panel, panelRows) != 0 {
                    failed.store(true, ordering: .relaxed)
                }
            }
        }
        if failed.load(ordering: .relaxed) {
            throw TensorError(.invalidArgument("quantized product: the float kernel could not allocate its packing buffers"))
        }
    }
}
