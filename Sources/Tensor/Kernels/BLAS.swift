import CBLAS

/// The only importer of CBLAS, and the one entry for single-precision matrix products:
/// each goes to Orrery's tiled kernel (`TiledProduct`) or to OpenBLAS by its size.
enum BLAS {
    /// C[m×n] = op(A)[m×k] · op(B)[k×n], row-major, with `op` a transpose when asked (no copy).
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if !accumulate { c.initialize(repeating: 0, count: m * n) }
            return
        }
        // A single row times a matrix is a matrix-vector product: sgemv streams the matrix
        // once, where sgemm's packing for m = 1 costs more than the product (LM decoding).
        if m == 1 {
            // cᵀ = op(B)ᵀ · aᵀ; B is [k×n] row-major (or [n×k] when transposed).
            cblas_sgemv(
                CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(transposeB ? n : k), Int32(transposeB ? k : n), 1, b,
                Int32(transposeB ? k : n), a, 1, accumulate ? 1 : 0, c, 1)
            return
        }
        sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: transposeA ? m : k,
            b: b, ldb: transposeB ? k : n, c: c, ldc: n, accumulate: accumulate)
    }
}

extension BLAS {
    /// C = op(A)·op(B) (+ C when `accumulate`) on sub-matrices with explicit row strides
    /// (leading dimensions): one head's rows inside a [T, heads·d] activation, read and
    /// written in place without copying the head out.
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        if TiledProduct.takes(m: m, n: n, k: k) {
            TiledProduct.run(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                c: c, ldc: ldc, accumulate: accumulate, threads: threads)
            return
        }
        openBLAS(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c,
            ldc: ldc, accumulate: accumulate)
    }

    /// The same product through OpenBLAS whatever its size.
    static func openBLAS(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
    }
}

extension BLAS {
    /// Threads a product may use: OpenBLAS's count, capped by the engine's, and so 1 inside
    /// `withoutInnerThreads`, where the engine already runs products side by side.
    static var threads: Int { min(Parallel.threadCount, Int(openblas_get_num_threads())) }

    /// Runs `body` with OpenBLAS on one thread when the engine itself runs `body`'s BLAS calls
    /// from several threads (one attention head each): nested BLAS threads would put
    /// threads × threads on the cores, and OpenBLAS's spinning workers then slow every
    /// product several-fold. Safe because operations run one at a time.
    static func withoutInnerThreads<R>(_ body: () -> R) -> R {
        let previous = openblas_get_num_threads()
        guard previous > 1, Parallel.threadCount > 1 else { return body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return body()
    }
}
