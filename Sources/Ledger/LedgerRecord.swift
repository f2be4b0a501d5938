import Foundation
import Reporting

/// One change to the ledger. The coordinator appends records as things happen and commits
/// them in groups (`Ledger.commit`), before it sends anything that depends on them.
public enum LedgerRecord: Sendable {
    /// A job was accepted: enough to rebuild it (its spec) and to name it (`number`).
    case jobSubmitted(LedgerJob)
    /// A planner planned tasks: they are open until their outcome is recorded.
    case tasksPlanned(jobID: String, [LedgerTask])
    /// A task was leased for attempt `attempt`; `holder` is the worker that may re-attach it
    /// after a restart (nil for a gang task, which is re-formed instead).
    case leased(jobID: String, key: String, attempt: Int, holder: String?)
    /// A task went back to the queue without a result; `attempts` is the count it keeps
    /// (lower than before when a lease never reached its worker).
    case requeued(jobID: String, key: String, attempts: Int, memberLosses: Int)
    /// A task's final outcome, given to its planner: the task is no longer open.
    case outcome(LedgerOutcome)
    /// A task's newest checkpoint.
    case checkpoint(LedgerCheckpoint)
    /// A job ended: its final state and report; its open tasks and checkpoints are dropped.
    case jobEnded(LedgerJobEnd)
    /// A value for the cross-job cache (a score, keyed by a digest of what produced it).
    case cached(key: String, value: Data)
    /// Points of a job's curves, kept after the job ends (until the job itself leaves).
    case scalars(jobID: String, [CurvePoint])
}

/// A job as recorded when it is accepted.
public struct LedgerJob: Sendable, Equatable {
    public let id: String
    /// The coordinator's sequence number for it (job ids are never reused).
    public let number: Int
    public let name: String
    /// The workload kind, as the spec names it.
    public let workload: String
    public let specYAML: String
    public let sourceName: String
    /// Wall-clock milliseconds since 1970.
    public let submittedAt: Int64

    public init(id: String, number: Int, name: String, workload: String, specYAML: String, sourceName: String, submittedAt: Int64) {
        self.id = id
        self.number = number
        self.name = name
        self.workload = workload
        self.specYAML = specYAML
        self.sourceName = sourceName
        self.submittedAt = submittedAt
    }
}

/// An open task: planned, without an outcome yet.
public struct LedgerTask: Sendable, Equatable {
    public let key: String
    public let payload: Data
    /// The gang size (minimum, maximum) of a gang task.
    public let gang: (minimum: Int, maximum: Int)?
    /// Leases given out so far.
    public var attempts: Int
    public var memberLosses: Int
    /// The worker holding its current lease, when it has one that can be re-attached.
    public var holder: String?
    /// Where its output goes in the cross-job cache (see `PlannedTask.cacheKey`).
    public let cacheKey: String?
    /// The worker it should go to when that one has room (see `PlannedTask.preferredWorker`).
    public let preferredWorker: String?
    /// The task whose checkpoint it continues (see `PlannedTask.startsFrom`).
    public let startsFrom: String?

    public init(
        key: String, payload: Data, gang: (minimum: Int, maximum: Int)?, attempts: Int = 0, memberLosses: Int = 0, holder: String? = nil,
        cacheKey: String? = nil, preferredWorker: String? = nil, startsFrom: String? = nil
    ) {
        self.key = key
        self.payload = payload
        self.gang = gang
        self.cacheKey = cacheKey
        self.preferredWorker = preferredWorker
        self.startsFrom = startsFrom
        self.attempts = attempts
        self.memberLosses = memberLosses
        self.holder = holder
    }

    public static func == (a: LedgerTask, b: LedgerTask) -> Bool {
        a.key == b.key && a.payload == b.payload && a.gang?.minimum == b.gang?.minimum && a.gang?.maximum == b.gang?.maximum
            && a.attempts == b.attempts && a.memberLosses == b.memberLosses && a.holder == b.holder && a.cacheKey == b.cacheKey
            && a.preferredWorker == b.preferredWorker && a.startsFrom == b.startsFrom
    }
}

/// A task's final outcome, in the order its planner received it (`sequence`).
public struct LedgerOutcome: Sendable, Equatable {
    public let jobID: String
    public let sequence: Int
    public let key: String
    /// nil for a success.
    public let failure: String?
    public let metrics: [String: Double]
    public let payload: Data
    public let attempts: Int
    public let worker: String

    public init(jobID: String, sequence: Int, key: String, failure: String?, metrics: [String: Double], payload: Data, attempts: Int, worker: String) {
        self.jobID = jobID
        self.sequence = sequence
        self.key = key
        self.failure = failure
        self.metrics = metrics
        self.payload = payload
        self.attempts = attempts
        self.worker = worker
    }
}

/// A task's newest checkpoint.
public struct LedgerCheckpoint: Sendable, Equatable {
    public let jobID: String
    public let key: String
    public let attempt: Int
    public let step: UInt64
    public let data: Data

    public init(jobID: String, key: String, attempt: Int, step: UInt64, data: Data) {
        self.jobID = jobID
        self.key = key
        self.attempt = attempt
        self.step = step
        self.data = data
    }
}

/// A job's end: what `status JOB` shows for it after any number of restarts.
public struct LedgerJobEnd: Sendable, Equatable {
    public let jobID: String
    /// The wire's job state number (succeeded, failed, cancelled).
    public let state: Int
    public let error: String
    public let finishedAt: Int64
    public let tasksPlanned: UInt64
    public let tasksDone: UInt64
    public let tasksFailed: UInt64
    public let retries: UInt64
    public let duplicatesIgnored: UInt64
    public let reportText: String
    public let reportJSON: String
    public let reportFiles: [String: String]

    public init(
        jobID: String, state: Int, error: String, finishedAt: Int64, tasksPlanned: UInt64, tasksDone: UInt64, tasksFailed: UInt64,
        retries: UInt64, duplicatesIgnored: UInt64, reportText: String, reportJSON: String, reportFiles: [String: String]
    ) {
        self.jobID = jobID
        self.state = state
        self.error = error
        self.finishedAt = finishedAt
        self.tasksPlanned = tasksPlanned
        self.tasksDone = tasksDone
        self.tasksFailed = tasksFailed
        self.retries = retries
        self.duplicatesIgnored = duplicatesIgnored
        self.reportText = reportText
        self.reportJSON = reportJSON
        self.reportFiles = reportFiles
    }
}

/// A job as read back: how it was submitted and, once it ended, how it ended.
public struct LedgerJobRow: Sendable, Equatable {
    public let job: LedgerJob
    /// nil while the job runs.
    public let end: LedgerJobEnd?
}
