import Foundation
import Glibc
import Wire

/// Answers at once, or after the task's `sleep_ms` (checking for cancellation as it waits).
struct NoopExecutor: Executor {
    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NoopTask.self, from: payload)
        var remaining = Int(task.sleepMs)
        while remaining > 0 {
            try context.checkCancellation()
            let step = min(remaining, 20)
            usleep(UInt32(step) * 1000)
            remaining -= step
        }
        return TaskOutput()
    }
}
