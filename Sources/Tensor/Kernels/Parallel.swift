import CKernels
import Foundation

/// Splits large kernels across threads. The thread count comes from `ORRERY_THREADS`
/// (default: all cores); below `minimumPerThread` elements a kernel runs on the caller's
/// thread, since waking threads costs more than small loops.
///
/// Kernels never run while a BLAS call runs (operations execute one after another), so the
/// engine's threads and OpenBLAS's threads do not compete; set `OPENBLAS_NUM_THREADS` and
/// `ORRERY_THREADS` so that processes × threads ≤ cores.
public enum Parallel {
    public static let threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["ORRERY_THREADS"], let value = Int(text), value >= 1 {
            return value
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    static let minimumPerThread = 1 << 15

    /// Calls `body(range)` over disjoint ranges covering 0..<count, possibly in parallel.
    /// Ranges are fixed by `count` and the thread count, so results do not depend on timing.
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, count * grain / minimumPerThread))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        run(chunks: chunks, threads: chunks) { chunk in
            let start = chunk * size
            if start < count { body(start..<min(count, start + size)) }
        }
    }

    /// Calls `body(chunk)` for every chunk in 0..<chunks on the calling thread and up to
    /// `threads − 1` of the engine's workers (CKernels/thread_pool.c), and returns when all
    /// are done. The workers stay hot for a moment after each job, so back-to-back kernels
    /// do not pay a thread wake-up each; Dispatch's `concurrentPerform` cost tens of
    /// microseconds per call here, a tenth of a 256³ product on two cores.
    public static func run(chunks: Int, threads: Int, _ body: (Int) -> Void) {
        guard chunks > 1, threads > 1 else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // Chunks touch disjoint parts of the same buffers and the call waits for all of
        // them, so the closure may run on other threads for the call's duration.
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafeMutablePointer(to: &body) { pointer in
                orrery_pool_run(chunks, Int32(threads), { context, chunk in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(chunk)
                }, pointer)
            }
        }
    }
}
