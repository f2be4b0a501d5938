import CBLAS

/// The only importer of CBLAS: single-precision matrix products through OpenBLAS.
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
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n),
            accumulate ? 1 : 0, c, Int32(n))
    }
}
