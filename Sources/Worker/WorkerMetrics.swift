import Metrics
import Synchronization

/// A worker's task metrics for its `/metrics`: tasks run per workload by how they ended,
/// how long they took, and how many run now. Shared by the pool's task threads; handles
/// are made once per label set.
final class WorkerMetrics: Sendable {
    enum Ending: String {
        case succeeded, failed, cancelled
    }

    private let handles = Mutex<[String: (count: Counter, seconds: Timer)]>([:])
    private let running = Gauge(label: "orrery_worker_tasks_running")
    private let runningCount = Mutex(0)

    func started() { running.record(runningCount.withLock { $0 += 1; return $0 }) }

    func ended(workload: String, _ ending: Ending, microseconds: Int64) {
        running.record(runningCount.withLock { $0 -= 1; return $0 })
        let key = workload + "\u{0}" + ending.rawValue
        let (count, seconds) = handles.withLock { handles in
            if let made = handles[key] { return made }
            let made = (
                Counter(label: "orrery_worker_tasks_total", dimensions: [("workload", workload), ("outcome", ending.rawValue)]),
                Timer(label: "orrery_worker_task_duration_seconds", dimensions: [("workload", workload), ("outcome", ending.rawValue)], preferredDisplayUnit: .seconds)
            )
            handles[key] = made
            return made
        }
        count.increment()
        seconds.recordMicroseconds(microseconds)
    }
}
