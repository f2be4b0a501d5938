import Foundation
import Ledger
import Reporting
import Wire
import Workloads

/// One submitted job: its planner, and what has happened to it so far.
final class Job {
    let id: JobID
    let name: String
    /// The workload kind its spec names.
    let workload: String
    /// Dropped once the job ends and its report is taken, to free what it planned.
    private(set) var planner: (any Planner)?
    var state: Orrery_V1_JobState = .running
    let startedAt: Int64
    var finishedAt: Int64?
    var tasksPlanned: UInt64 = 0
    var tasksDone: UInt64 = 0
    var tasksFailed: UInt64 = 0
    var retries: UInt64 = 0
    var duplicatesIgnored: UInt64 = 0
    /// Outcomes answered from the cross-job cache instead of run.
    var tasksCached: UInt64 = 0
    /// Cache answers queued for this job's planner and not yet delivered: outstanding
    /// outcomes the lease table does not hold.
    var cachedAnswersPending = 0
    var error = ""
    /// The latest progress note from one of the job's tasks.
    var progress = ""
    var report = JobReport(text: "", json: "")
    /// The spec as submitted (for the dashboard's job page).
    var specYAML = ""
    /// Lease-to-result times of tasks that finished on their first holder, microseconds;
    /// summarized into percentiles once the job ends.
    private var roundTrips = LatencyHistogram()
    private var roundTripPercentiles: (p50: Double, p99: Double)?
    /// Clients that asked for updates (routing ids), and when they last got one.
    var watchers: [[UInt8]] = []
    /// Watchers kept per job; a client past it gets one answer and no stream.
    static let maximumWatchers = 64
    var lastUpdateSent: Int64 = 0
    var changedSinceUpdate = true
    /// The job's curves (loss, accuracy… per step) as its tasks report them.
    var curves = CurveSet()
    /// The highest curve sequence the job's watchers were sent in a broadcast update.
    var curvesBroadcastUpTo: UInt64 = 0
    /// Points written to the ledger; past `maximumStoredPoints` a job's curves stay in
    /// memory (thinned) only, so a task that reports too often cannot fill the disk.
    var storedPoints = 0
    static let maximumStoredPoints = 100_000
    /// Points a first update to a client carries at most (the newest).
    static let maximumPointsPerUpdate = 20_000

    init(id: JobID, validated: ValidatedJob, now: Int64) {
        self.id = id
        self.name = validated.spec.name
        self.workload = validated.spec.workload.kind
        self.planner = validated.planner
        self.startedAt = now
    }

    /// A job that ended before this coordinator started, as its ledger recorded it.
    init(ended record: LedgerJob, end: LedgerJobEnd, now: Int64) {
        id = JobID(recorded: record.id)
        name = record.name
        workload = record.workload
        planner = nil
        state = Orrery_V1_JobState(rawValue: end.state) ?? .failed
        error = end.error
        // Elapsed time is kept as it was; the monotonic clock of an earlier process is gone.
        startedAt = now - max(0, end.finishedAt - record.submittedAt)
        finishedAt = now
        tasksPlanned = end.tasksPlanned
        tasksDone = end.tasksDone
        tasksFailed = end.tasksFailed
        retries = end.retries
        duplicatesIgnored = end.duplicatesIgnored
        report = JobReport(text: end.reportText, json: end.reportJSON, files: end.reportFiles)
        specYAML = record.specYAML
        changedSinceUpdate = false
    }

    var isRunning: Bool { state == .running }

    /// Ends the job with its planner's final report.
    func finish(_ state: Orrery_V1_JobState, error: String = "", now: Int64) {
        guard isRunning else { return }
        self.state = state
        self.error = error
        if let planner {
            report = planner.report()
            ReportArtifacts.add(to: &report, planner: planner, curves: curves, title: "\(name) (\(id))")
        }
        planner = nil
        if let p50 = roundTrips.percentile(0.5), let p99 = roundTrips.percentile(0.99) {
            roundTripPercentiles = (p50, p99)
        }
        roundTrips = LatencyHistogram()
        finishedAt = now
        changedSinceUpdate = true
    }

    func recordRoundTrip(_ micros: Int64) { roundTrips.record(microseconds: micros) }

    /// How much of a job a reply carries.
    enum Detail {
        /// Everything: the job's own watchers and `status JOB`.
        case full
        /// For the cluster-wide status: counters, a running job's live report (cut to
        /// `maximumSummaryReportBytes`), and no finished job's report, so that one status
        /// reply stays small however many large jobs the coordinator keeps.
        case summary
    }

    static let maximumSummaryReportBytes = 16 * 1024
    /// How long a running job's live report is reused in status replies.
    static let liveReportMilliseconds: Int64 = 250
    private var liveReportCache: (text: String, at: Int64)?

    /// A running job's report for status replies, made at most every
    /// `liveReportMilliseconds` and cut to `maximumSummaryReportBytes`: a planner's report
    /// (a leaderboard) costs far more than the reply, and clients may ask as often as
    /// they like.
    func liveReport(now: Int64) -> String {
        if let cached = liveReportCache, now - cached.at < Self.liveReportMilliseconds { return cached.text }
        let text = (planner?.report().text ?? "").truncated(toBytes: Self.maximumSummaryReportBytes)
        liveReportCache = (text, now)
        return text
    }

    /// Curve points for an update: every point (the newest `maximumPointsPerUpdate`) for a
    /// client's first answer, those after the last broadcast for the watchers' stream.
    func curvePoints(since sequence: UInt64) -> [Orrery_V1_CurvePoint] {
        curves.since(sequence, limit: Self.maximumPointsPerUpdate).map { point in
            var wire = Orrery_V1_CurvePoint()
            wire.sequence = point.sequence
            wire.task = point.task
            wire.tag = point.tag
            wire.step = point.step
            wire.value = point.value
            wire.wallTime = point.wallTime
            return wire
        }
    }

    /// What a running job's planner says of it now, for the dashboard.
    struct Standing {
        let reportJSON: String
        let ranking: Ranking?
        let paretoSet: ParetoSet?
    }

    private var standingCache: (standing: Standing, at: Int64)?

    /// The planner's report, ranking and Pareto set, made at most every
    /// `liveReportMilliseconds` however many pages ask (a report of a large search costs
    /// the loop far more than the question).
    func liveStanding(now: Int64) -> Standing {
        if let cached = standingCache, now - cached.at < Self.liveReportMilliseconds { return cached.standing }
        let standing = Standing(reportJSON: planner?.report().json ?? "", ranking: planner?.ranking(), paretoSet: planner?.paretoSet())
        standingCache = (standing, now)
        return standing
    }

    /// The job as clients see it; `queued` and `running` come from the lease table.
    func info(queued: Int, running: Int, now: Int64, detail: Detail = .full) -> Orrery_V1_JobInfo {
        var info = Orrery_V1_JobInfo()
        info.jobID = id.rawValue
        info.name = name
        info.workload = workload
        info.state = state
        let expected = UInt64(planner?.expectedTaskCount ?? 0)
        info.tasksTotal = max(tasksPlanned, expected)
        info.tasksDone = tasksDone
        info.tasksFailed = tasksFailed
        info.tasksQueued = UInt64(queued)
        info.tasksRunning = UInt64(running)
        info.retries = retries
        info.duplicatesIgnored = duplicatesIgnored
        info.tasksCached = tasksCached
        info.elapsedS = Double((finishedAt ?? now) - startedAt) / 1000
        info.error = error
        info.progress = (isRunning ? planner?.statusLine : nil) ?? progress
        switch (detail, isRunning) {
        case (.full, true):
            info.reportText = planner?.report().text ?? ""
        case (.summary, true):
            info.reportText = liveReport(now: now)
        case (.full, false):
            info.reportText = report.text
            info.reportJson = report.json
            info.reportFiles = report.files
        case (.summary, false):
            break
        }
        if let roundTripPercentiles {
            info.roundTripP50Us = roundTripPercentiles.p50
            info.roundTripP99Us = roundTripPercentiles.p99
        }
        return info
    }
}
