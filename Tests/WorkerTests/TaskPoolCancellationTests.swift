import Foundation
import Testing

@testable import Worker

/// Cancellation is per attempt: a gang re-formed after a failure runs the same task id
/// again, and an order meant for the old attempt must never stop the new one.
@Suite("Task pool cancellation by attempt")
struct TaskPoolCancellationTests {
    func pool() -> TaskPool {
        TaskPool(threads: 1, executors: [:], resultsEndpoint: "inproc://unused", dataPlane: nil)
    }

    func item(_ attempt: Int) -> TaskPool.Item {
        TaskPool.Item(taskID: "job/train", attempt: attempt, workload: "train", payload: Data())
    }

    @Test("a cancel stops the attempts submitted so far, not the next one")
    func cancelStopsOnlySeenAttempts() {
        let pool = pool()
        pool.submit(item(1))
        pool.cancel(["job/train"])
        pool.submit(item(2))
        #expect(pool.isCancelled("job/train", attempt: 1))
        #expect(!pool.isCancelled("job/train", attempt: 2))
    }

    @Test("a cancel that arrives after its attempt already ended does not cancel a later attempt in advance")
    func lateCancelIsHarmless() {
        let pool = pool()
        pool.submit(item(1))
        pool.forget("job/train", attempt: 1)  // attempt 1 failed and was reported
        pool.cancel(["job/train"])  // the coordinator's cancel for attempt 1 arrives afterwards
        pool.submit(item(2))
        #expect(!pool.isCancelled("job/train", attempt: 2))
    }
}
