import Metrics
import Wire

/// The coordinator's counters, kept for `orrery status` and exported through swift-metrics
/// (to whatever backend the process bootstraps, e.g. Prometheus).
struct CoordinatorCounters {
    enum Name: String, CaseIterable {
        case framesReceived = "orrery_coordinator_frames_received_total"
        case framesMalformed = "orrery_coordinator_frames_malformed_total"
        case framesWrongVersion = "orrery_coordinator_frames_wrong_version_total"
        case framesUnknownSender = "orrery_coordinator_frames_unknown_sender_total"
        case workersRegistered = "orrery_coordinator_workers_registered_total"
        case workersDeclaredDead = "orrery_coordinator_workers_declared_dead_total"
        case tasksCompleted = "orrery_coordinator_tasks_completed_total"
        case duplicateResults = "orrery_coordinator_duplicate_results_total"
        case resultsUnknownTask = "orrery_coordinator_results_unknown_task_total"
        case resultsStaleAttempt = "orrery_coordinator_results_stale_attempt_total"
        case requestsRateLimited = "orrery_coordinator_requests_rate_limited_total"
        case registrationsRefused = "orrery_coordinator_registrations_refused_total"
        case logLinesSuppressed = "orrery_coordinator_log_lines_suppressed_total"
        case sendFailures = "orrery_coordinator_send_failures_total"
        case gangsFormed = "orrery_coordinator_gangs_formed_total"
        case checkpointsCommitted = "orrery_coordinator_checkpoints_committed_total"
        case ledgerCommits = "orrery_coordinator_ledger_commits_total"
        case cacheHits = "orrery_coordinator_cache_hits_total"
    }

    private var values: [Name: UInt64] = [:]
    /// The longest turn of the loop, microseconds (a maximum, not a count).
    private(set) var worstLoopTurnMicros: UInt64 = 0
    private let worstLoopTurn = Gauge(label: "orrery_coordinator_worst_loop_turn_microseconds")
    private let exported: [Name: Counter] = Dictionary(
        uniqueKeysWithValues: Name.allCases.map { ($0, Counter(label: $0.rawValue)) })

    subscript(name: Name) -> UInt64 { values[name, default: 0] }

    mutating func increment(_ name: Name, by amount: Int = 1) {
        values[name, default: 0] += UInt64(amount)
        exported[name]?.increment(by: amount)
    }

    mutating func recordLoopTurn(microseconds: Int64) {
        guard microseconds > Int64(worstLoopTurnMicros) else { return }
        worstLoopTurnMicros = UInt64(microseconds)
        worstLoopTurn.record(microseconds)
    }

    var wire: Orrery_V1_CoordinatorCounters {
        var counters = Orrery_V1_CoordinatorCounters()
        counters.framesReceived = self[.framesReceived]
        counters.framesMalformed = self[.framesMalformed]
        counters.framesWrongVersion = self[.framesWrongVersion]
        counters.framesUnknownSender = self[.framesUnknownSender]
        counters.workersRegistered = self[.workersRegistered]
        counters.workersDeclaredDead = self[.workersDeclaredDead]
        counters.tasksCompleted = self[.tasksCompleted]
        counters.duplicateResults = self[.duplicateResults]
        counters.resultsUnknownTask = self[.resultsUnknownTask]
        counters.resultsStaleAttempt = self[.resultsStaleAttempt]
        counters.requestsRateLimited = self[.requestsRateLimited]
        counters.registrationsRefused = self[.registrationsRefused]
        counters.logLinesSuppressed = self[.logLinesSuppressed]
        counters.worstLoopTurnUs = worstLoopTurnMicros
        counters.ledgerCommits = self[.ledgerCommits]
        counters.cacheHits = self[.cacheHits]
        counters.checkpointsCommitted = self[.checkpointsCommitted]
        return counters
    }
}
