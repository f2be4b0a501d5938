import Foundation
@_exported import struct Reporting.Ranking
@_exported import struct Reporting.ParetoSet

/// A job kind: how the coordinator plans it and how a worker executes its tasks.
///
/// The coordinator and the worker only ever see this protocol, so a new job kind is one
/// new conforming type added to `WorkloadRegistry.builtIn`, and neither daemon changes.
public protocol Workload: Sendable {
    /// The name used in job specs (`workload: sweep`), on the wire and in capabilities.
    var kind: String { get }
    /// One line for `--help` and `orrery workloads`.
    var summary: String { get }
    /// Reads this workload's section of a job spec and returns a planner for it. Every
    /// field is checked here, so that a bad spec fails before anything starts.
    func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner
    /// Makes the executor a worker keeps for its whole life (loading models once, say).
    func makeExecutor() throws -> any Executor
}

/// The coordinator-side half of a workload: spec → tasks, results → more tasks, done.
///
/// A planner lives on the coordinator's event loop thread and is never shared, so it is a
/// plain class with no locking.
///
/// **Replay contract.** A planner's state is a function of its spec and of the outcomes it
/// was given, in order: a planner built again from the same spec, started, and given the
/// same outcomes in the same order plans the same tasks (same keys, same payloads) and
/// reports the same. The coordinator's ledger keeps only a job's spec, its outcomes and its
/// open tasks, and rebuilds the planner this way after a restart, so a planner must not
/// depend on the clock, on unseeded randomness, or on the iteration order of a `Set` or
/// `Dictionary` (which changes from process to process), and ties must be broken by
/// content, not by arrival order. A restarted coordinator checks the rebuilt planner's open
/// tasks against the ledger's and refuses to resume a job whose planner breaks this;
/// `PlannerReplayTests` checks every built-in kind.
public protocol Planner: AnyObject {
    /// The tasks to run first.
    func start() -> [PlannedTask]
    /// Takes the final outcome of one task (each task's outcome arrives exactly once) and
    /// returns any tasks to add.
    func consume(_ outcome: TaskOutcome) -> [PlannedTask]
    /// True once the planner wants no more tasks and every task it planned has an outcome.
    var isComplete: Bool { get }
    /// Why the job failed, if the planner judges that it did.
    var failureReason: String? { get }
    /// How many tasks the job will have in all, when the planner knows (for progress bars).
    var expectedTaskCount: Int? { get }
    /// The job's result so far: the final one once `isComplete`.
    func report() -> JobReport
    /// What the job will cost at most (evaluations, tasks), for a dry run; nil when the
    /// planner cannot tell before it starts.
    var plannedCost: String? { get }
    /// One line on how the job stands, shown live by `submit`, `launch` and `status` (a
    /// search's best so far, say); nil to show the tasks' own progress notes instead.
    var statusLine: String? { get }
    /// What the job ranks so far, best first (prompts, trials, points of a sweep), for the
    /// dashboard's live leaderboard and `leaderboard.svg`; nil for a job that ranks nothing.
    func ranking() -> Ranking?
    /// The points the job compares on several objectives and its Pareto front among them;
    /// nil for a job with one objective.
    func paretoSet() -> ParetoSet?
}

extension Planner {
    public var plannedCost: String? { nil }
    public var statusLine: String? { nil }
    public func ranking() -> Ranking? { nil }
    public func paretoSet() -> ParetoSet? { nil }
}

/// A task as a planner describes it: a key unique within its job, and the payload its
/// executor reads.
public struct PlannedTask: Sendable, Equatable {
    public let key: String
    public let payload: Data
    /// Set when the task runs on several workers at once (data-parallel training).
    public let gang: GangSize?
    /// A digest of everything that determines the task's output, set only when the output
    /// is a pure function of it (no side effects, no clock, no randomness outside it). A
    /// coordinator with a ledger then answers a task whose output it recorded before — in
    /// this job or any earlier one — without running it again.
    public let cacheKey: String?
    /// The worker that should run the task if it can start it at once — one that holds
    /// what the task starts from (a promoted NAS trial's state), so the bytes need not
    /// travel. A hint only: while that worker is busy or gone, any capable worker takes
    /// the task.
    public let preferredWorker: String?
    /// The key of an earlier task of the same job that this one continues: a lease that
    /// goes to any worker but `preferredWorker` carries that task's newest committed
    /// checkpoint as its `resume` (unless this task has committed one of its own). So the
    /// state travels only when it must, and never on the way between the two tasks.
    public let startsFrom: String?

    public init(
        key: String, payload: Data, gang: GangSize? = nil, cacheKey: String? = nil, preferredWorker: String? = nil,
        startsFrom: String? = nil
    ) {
        self.key = key
        self.payload = payload
        self.gang = gang
        self.cacheKey = cacheKey
        self.preferredWorker = preferredWorker
        self.startsFrom = startsFrom
    }
}

/// How many workers a gang task wants: it starts once `minimum` are free, taking up to
/// `maximum` (waiting a little for more when fewer are free), and after losing a member it
/// continues on the survivors as long as they are at least `minimum`.
public struct GangSize: Sendable, Equatable {
    public let minimum: Int
    public let maximum: Int

    public init(minimum: Int, maximum: Int) {
        precondition(minimum >= 1 && maximum >= minimum)
        self.minimum = minimum
        self.maximum = maximum
    }
}

/// The final word on one task, as the planner receives it.
public struct TaskOutcome: Sendable {
    public enum Result: Sendable {
        case success(TaskOutput)
        /// Every attempt failed (or a failure that no retry can fix); the message says why.
        case failure(String)
    }

    public let key: String
    public let result: Result
    /// Leases given out for this task, the successful one included.
    public let attempts: Int
    public let workerID: String

    public init(key: String, result: Result, attempts: Int, workerID: String) {
        self.key = key
        self.result = result
        self.attempts = attempts
        self.workerID = workerID
    }
}

/// What an executor returns: named numbers for leaderboards and a workload-specific payload.
public struct TaskOutput: Sendable, Equatable {
    public var metrics: [String: Double]
    public var payload: Data
    /// The finished task's state, for a task that continues it (`PlannedTask.startsFrom`):
    /// committed like any checkpoint, but sent after the result, so that its bytes never
    /// delay the result or the next lease. Not part of the outcome a planner sees.
    public var finalCheckpoint: TaskCheckpoint?

    public init(metrics: [String: Double] = [:], payload: Data = Data(), finalCheckpoint: TaskCheckpoint? = nil) {
        self.metrics = metrics
        self.payload = payload
        self.finalCheckpoint = finalCheckpoint
    }
}

/// A job's result, for people (`text`) and for programs (`json`), with any tables the
/// workload writes as files (`files`: name → contents, e.g. "leaderboard.csv"), which
/// `orrery submit --report-dir` and `launch --report-dir` save.
public struct JobReport: Sendable, Equatable {
    public var text: String
    public var json: String
    public var files: [String: String]

    public init(text: String, json: String, files: [String: String] = [:]) {
        self.text = text
        self.json = json
        self.files = files
    }
}
