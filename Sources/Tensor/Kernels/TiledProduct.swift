import CKernels
import Foundation

/// Orrery's own matrix product (CKernels/sgemm.c: AVX2, 6×16 register tiles), used for
/// the products a training step is made of, where it beats OpenBLAS 0.3.21; larger products
/// stay with OpenBLAS, whose deeper blocking wins there (docs/benchmarks.md, issue 3).
///
/// `ORRERY_GEMM` chooses: `auto` (the default: by size), `tiled` (always this kernel, where
/// the CPU has AVX2 and FMA) or `openblas` (never), so either side can be measured alone.
enum TiledProduct {
    /// Which products the kernel takes.
    enum Mode: String {
        case automatic = "auto", tiled, openblas
    }

    static let mode: Mode = {
        guard let text = ProcessInfo.processInfo.environment["ORRERY_GEMM"], !text.isEmpty else { return .automatic }
        guard let mode = Mode(rawValue: text) else {
            FileHandle.standardError.write(Data("ORRERY_GEMM: unknown value '\(text)' (auto, tiled or openblas); using auto\n".utf8))
            return .automatic
        }
        return mode
    }()

    static let isSupported = orrery_sgemm_supported() != 0

    /// Products up to 512³ multiply-adds run here: every product of the MLP, 256³ and 512³,
    /// the encoder layer's output projection and attention. Measured against OpenBLAS on one
    /// core: 1.07–1.09× on the MLP's training step, 1.08× at 256³, 1.02× at 512³, up to 1.6×
    /// on attention's 32³ products. Above 512³ OpenBLAS stays: from 1024³ up this kernel is
    /// 0.87–0.94× (its A is read in place, not packed), and with the encoder's 512×1152×384
    /// and 512×1536×384 products the layer's forward pass ran at 0.95× (alone, with warm
    /// caches, those products tie; inside the layer A comes from L3, where packing it pays).
    static let largestVolume = 512 * 512 * 512

    /// Whether the kernel should compute an m×n×k product.
    static func takes(m: Int, n: Int, k: Int) -> Bool {
        guard isSupported else { return false }
        switch mode {
        case .openblas: return false
        case .tiled: return true
        case .automatic: return m * n * k <= largestVolume
        }
    }

    /// Multiply-adds below which one more thread costs more than it saves (about 20 µs of
    /// work at the core's peak).
    static let volumePerThread = 1 << 20

    /// How many column ranges (one per thread) an m×n×k product is split into: no more than
    /// the threads, the 16-wide panels, or the work worth a thread.
    static func chunks(m: Int, n: Int, k: Int, threads: Int) -> Int {
        max(1, min(threads, (n + 15) / 16, m * n * k / volumePerThread))
    }

    /// C = op(A)·op(B) (+ C), row-major with leading dimensions, on up to `threads` threads,
    /// each taking a range of columns that is a multiple of the kernel's 16-wide panels.
    /// The result is the same for every thread count.
    static func run(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int
    ) {
        let chunks = chunks(m: m, n: n, k: k, threads: threads)
        let panelsPerChunk = ((n + 15) / 16 + chunks - 1) / chunks
        Parallel.run(chunks: chunks, threads: chunks) { chunk in
            let begin = chunk * panelsPerChunk * 16, end = min(n, begin + panelsPerChunk * 16)
            guard begin < end else { return }
            let status = orrery_sgemm_columns(
                transposeA ? 1 : 0, transposeB ? 1 : 0, m, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0, begin, end)
            // The only failure is the allocation of its ~640 KiB packing buffers, which Swift's own
            // allocations treat as fatal too.
            precondition(status == 0, "sgemm: out of memory for a \(m)×\(n)×\(k) product's packing buffer")
        }
    }
}
