import Testing

@testable import Tensor

/// Orrery's own sgemm kernel (CKernels/sgemm.c) against a double-precision reference, over
/// shapes that cross each of its block sizes (6-row and 16-column tiles, 120-row blocks,
/// depth chunks of 256, column chunks of 512), every transpose, accumulation, and
/// sub-matrices with padded rows whose padding must stay untouched.
@Suite("Tiled matrix product", .enabled(if: TiledProduct.isSupported, "needs AVX2 and FMA"))
struct TiledProductTests {
    /// One product's operands, stored with `padding` extra floats per row.
    struct Case: CustomTestStringConvertible {
        let m: Int, n: Int, k: Int
        let transposeA: Bool, transposeB: Bool, accumulate: Bool, padding: Int

        var testDescription: String {
            "\(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")\(accumulate ? " +C" : "") pad \(padding)"
        }
        var lda: Int { (transposeA ? m : k) + padding }
        var ldb: Int { (transposeB ? k : n) + padding }
        var ldc: Int { n + padding }
        var aCount: Int { (transposeA ? k : m) * lda }
        var bCount: Int { (transposeB ? n : k) * ldb }

        func a(_ i: Int, _ p: Int, _ values: [Float]) -> Double { Double(transposeA ? values[p * lda + i] : values[i * lda + p]) }
        func b(_ p: Int, _ j: Int, _ values: [Float]) -> Double { Double(transposeB ? values[j * ldb + p] : values[p * ldb + j]) }
    }

    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (2, 3, 5), (6, 16, 1), (7, 17, 257), (13, 33, 300), (121, 40, 9), (64, 10, 784), (3, 1030, 20), (130, 48, 520),
    ]

    static let cases: [Case] = shapes.flatMap { shape in
        [(false, false), (false, true), (true, false), (true, true)].map { transposes in
            let variant = (shape.0 + shape.1 + shape.2) % 2 == 0
            return Case(
                m: shape.0, n: shape.1, k: shape.2, transposeA: transposes.0, transposeB: transposes.1,
                accumulate: variant != transposes.0, padding: variant ? 3 : 0)
        }
    }

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return Tensor.uniform([count], low: -1, high: 1, using: &generator).scalars
    }

    /// Sentinel in C's padding, which no product may write.
    static let untouched: Float = 12345

    static func product(_ c: Case, threads: Int) -> (a: [Float], b: [Float], before: [Float], after: [Float]) {
        let a = values(c.aCount, seed: 1), b = values(c.bCount, seed: 2)
        var before = values(c.m * c.ldc, seed: 3)
        for i in 0..<c.m { for j in c.n..<c.ldc { before[i * c.ldc + j] = untouched } }
        var after = before
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                after.withUnsafeMutableBufferPointer { out in
                    TiledProduct.run(
                        transposeA: c.transposeA, transposeB: c.transposeB, m: c.m, n: c.n, k: c.k, a: a.baseAddress!, lda: c.lda,
                        b: b.baseAddress!, ldb: c.ldb, c: out.baseAddress!, ldc: c.ldc, accumulate: c.accumulate, threads: threads)
                }
            }
        }
        return (a, b, before, after)
    }

    @Test("equals the double-precision product and writes nothing outside C", arguments: cases)
    func matchesReference(_ c: Case) {
        let (a, b, before, after) = Self.product(c, threads: 1)
        var worst = 0.0
        for i in 0..<c.m {
            for j in 0..<c.n {
                var total = c.accumulate ? Double(before[i * c.ldc + j]) : 0, magnitude = abs(total)
                for p in 0..<c.k {
                    total += c.a(i, p, a) * c.b(p, j, b)
                    magnitude += abs(c.a(i, p, a) * c.b(p, j, b))
                }
                // Float32 summation of k terms: error bounded by k·ε relative to Σ|terms|.
                let error = abs(Double(after[i * c.ldc + j]) - total) / max(magnitude, 1e-30)
                worst = max(worst, error)
            }
            for j in c.n..<c.ldc { #expect(after[i * c.ldc + j] == Self.untouched, "C's padding at row \(i) was written") }
        }
        #expect(worst <= Double(c.k + 2) * 1.2e-7, "relative error \(worst)")
    }

    /// Products large enough to be split between 3 threads, with column ranges that cross
    /// a 512-column chunk, in each transpose.
    static let splitCases = [
        Case(m: 121, n: 1030, k: 40, transposeA: false, transposeB: false, accumulate: true, padding: 3),
        Case(m: 50, n: 600, k: 300, transposeA: false, transposeB: true, accumulate: false, padding: 0),
        Case(m: 130, n: 48, k: 520, transposeA: true, transposeB: false, accumulate: false, padding: 3),
        Case(m: 70, n: 400, k: 300, transposeA: true, transposeB: true, accumulate: true, padding: 0),
    ]

    @Test("any split of the columns between threads gives bit-identical results", arguments: splitCases)
    func threadCountDoesNotChangeResults(_ c: Case) {
        let one = Self.product(c, threads: 1).after
        for threads in [2, 3] {
            #expect(TiledProduct.chunks(m: c.m, n: c.n, k: c.k, threads: threads) == threads, "the product is really split")
            #expect(Self.product(c, threads: threads).after == one, "\(threads) threads")
        }
    }

    @Test("the kernel takes products up to 512³, leaves larger ones to OpenBLAS, and agrees with it")
    func dispatchAgreesWithOpenBLAS() {
        if TiledProduct.mode == .automatic {
            #expect(TiledProduct.takes(m: 512, n: 512, k: 512))
            #expect(!TiledProduct.takes(m: 512, n: 1152, k: 384))
            #expect(!TiledProduct.takes(m: 1024, n: 1024, k: 1024))
        }
        let c = Case(m: 70, n: 50, k: 300, transposeA: false, transposeB: true, accumulate: false, padding: 0)
        let (a, b, _, tiled) = Self.product(c, threads: 2)
        var openBLAS = [Float](repeating: 0, count: c.m * c.n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                openBLAS.withUnsafeMutableBufferPointer { out in
                    cblasProduct(c, a.baseAddress!, b.baseAddress!, out.baseAddress!)
                }
            }
        }
        let difference = zip(tiled, openBLAS).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-4)
    }

    private func cblasProduct(_ c: Case, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        BLAS.openBLAS(
            transposeA: c.transposeA, transposeB: c.transposeB, m: c.m, n: c.n, k: c.k, a: a, lda: c.lda, b: b, ldb: c.ldb,
            c: out, ldc: c.ldc, accumulate: false)
    }
}
