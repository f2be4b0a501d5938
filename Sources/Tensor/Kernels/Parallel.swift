import Dispatch
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
        // Kernels hand each chunk a disjoint range of the same buffers and wait for all of
        // them before returning, so sharing `body` across threads is safe.
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * size
            if start < count { work(start..<min(count, start + size)) }
        }
    }
}
