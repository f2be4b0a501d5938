import Foundation
import Testing

@testable import Tensor

/// The engine's thread pool (CKernels/thread_pool.c): every chunk runs exactly once, from
/// one caller, from several callers at the same time, and from inside another job.
@Suite("Engine thread pool")
struct ParallelTests {
    /// Runs a job of `chunks` chunks that counts, per chunk, how often it ran.
    static func counts(chunks: Int, threads: Int, nested: Bool = false) -> [Int] {
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { slots.deallocate() }
        slots.initialize(repeating: 0)
        Parallel.run(chunks: chunks, threads: threads) { chunk in
            slots[chunk] += 1
            if nested {
                // A job inside a job finds the pool busy and runs on this thread.
                var inner = 0
                Parallel.run(chunks: 4, threads: threads) { _ in inner += 1 }
                if inner != 4 { slots[chunk] += 100 }
            }
        }
        return Array(slots)
    }

    @Test("each chunk runs once, for any chunk and thread count", arguments: [(1, 1), (2, 2), (7, 2), (1000, 2), (33, 4), (5, 8)])
    func everyChunkOnce(_ size: (Int, Int)) {
        for _ in 0..<20 {
            #expect(Self.counts(chunks: size.0, threads: size.1) == Array(repeating: 1, count: size.0))
        }
    }

    @Test("jobs submitted from inside a job run inline instead of waiting on the pool")
    func nestedJobs() {
        #expect(Self.counts(chunks: 16, threads: 2, nested: true) == Array(repeating: 1, count: 16))
    }

    @Test("several threads submitting at once each get all their chunks run once")
    func concurrentCallers() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    (0..<200).allSatisfy { round in
                        let chunks = 1 + (caller * 7 + round) % 40
                        return Self.counts(chunks: chunks, threads: 2) == Array(repeating: 1, count: chunks)
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }
}
