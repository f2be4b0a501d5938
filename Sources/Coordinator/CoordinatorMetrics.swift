import Metrics
import Wire

/// The coordinator's metrics by workload and by reason, for whatever backend the process
/// bootstraps (Prometheus behind `--http`'s `/metrics`): tasks leased, completed, failed and
/// duplicated per workload, lease round trips per workload, rejections by reason, and
/// gauges of workers, jobs and queue depths.
///
/// Handles are made once per label set and kept: making one costs a lock in the backend,
/// and dispatch leases hundreds of thousands of tasks a second.
struct CoordinatorMetrics {
    private var counters: [String: Counter] = [:]
    private var timers: [String: Timer] = [:]
    private let workers = Gauge(label: "orrery_coordinator_workers")
    private let jobsRunning = Gauge(label: "orrery_coordinator_jobs_running")
    private let tasksQueued = Gauge(label: "orrery_coordinator_tasks_queued")
    private let tasksLeased = Gauge(label: "orrery_coordinator_tasks_leased")
    private let gangsQueued = Gauge(label: "orrery_coordinator_gang_tasks_queued")
    private var lastGauges: Int64?

    enum TaskEvent: String {
        case leased, completed, failed, duplicate
    }

    /// One family, `orrery_coordinator_task_events_total{workload, event}` (the unlabeled
    /// totals in `CoordinatorCounters` keep their own names: Prometheus refuses a name
    /// that is both labeled and not).
    mutating func task(_ event: TaskEvent, workload: String, count: Int = 1) {
        counter("orrery_coordinator_task_events_total", [("workload", workload), ("event", event.rawValue)]).increment(by: count)
    }

    mutating func roundTrip(microseconds: Int64, workload: String) {
        let key = workload
        let timer = timers[key] ?? Timer(label: "orrery_coordinator_lease_round_trip_seconds", dimensions: [("workload", workload)], preferredDisplayUnit: .seconds)
        timers[key] = timer
        timer.recordMicroseconds(microseconds)
    }

    mutating func rejected(_ code: Orrery_V1_RejectCode) {
        counter("orrery_coordinator_rejects_total", [("reason", Self.name(code))]).increment()
    }

    /// Sets the gauges, at most once a second (they are read every few seconds at most).
    mutating func gauges(now: Int64, workers: Int, jobsRunning: Int, queued: Int, leased: Int, gangsQueued: Int) {
        if let lastGauges, now - lastGauges < 1_000 { return }
        lastGauges = now
        self.workers.record(workers)
        self.jobsRunning.record(jobsRunning)
        tasksQueued.record(queued)
        tasksLeased.record(leased)
        self.gangsQueued.record(gangsQueued)
    }

    private mutating func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = ([label] + dimensions.map(\.1)).joined(separator: "\u{0}")
        if let counter = counters[key] { return counter }
        let counter = Counter(label: label, dimensions: dimensions)
        counters[key] = counter
        return counter
    }

    /// "too_many_jobs" for `.rejectTooManyJobs`.
    static func name(_ code: Orrery_V1_RejectCode) -> String {
        let text = "\(code)"
        let trimmed = text.hasPrefix("reject") ? String(text.dropFirst("reject".count)) : text
        var out = ""
        for character in trimmed {
            if character.isUppercase, !out.isEmpty { out += "_" }
            out += character.lowercased()
        }
        return out
    }
}
