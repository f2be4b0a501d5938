import Foundation
import Reporting
import Wire
import Workloads

/// What the coordinator shows of itself to readers other than the wire's clients (the
/// HTTP dashboard and JSON API): the same messages the wire carries where they exist, and
/// a job's spec, report, ranking, Pareto set and curves. Every view runs on the loop's
/// thread (through `CoordinatorQueries`) and returns a value that leaves it.
extension CoordinatorCore {
    /// Every worker and job, with the counters (`orrery status`'s reply).
    public func clusterView() -> Orrery_V1_ClusterStatus {
        clusterStatus(now: clock.milliseconds())
    }

    /// The newest `limit` jobs, running and ended (from the ledger), newest first.
    public func jobListView(limit: Int) -> Orrery_V1_JobList {
        jobList(limit: max(1, min(limit, 10_000)))
    }

    /// One job in full, or nil when no job has that id (running, ended, or in the ledger).
    public func jobView(_ raw: String) -> JobView? {
        guard let job = job(named: raw) else { return nil }
        let now = clock.milliseconds()
        let standing = job.isRunning
            ? job.liveStanding(now: now)
            : Job.Standing(
                reportJSON: job.report.json, ranking: job.report.files["leaderboard.json"].flatMap { Self.decode(Ranking.self, $0) },
                paretoSet: job.report.files["pareto.json"].flatMap { Self.decode(ParetoSet.self, $0) })
        return JobView(
            // A running job's report text is the cached live one (`.summary`): pages may ask
            // as often as they like.
            info: jobInfo(job, now: now, detail: job.isRunning ? .summary : .full), specYAML: job.specYAML, reportJSON: standing.reportJSON,
            files: job.isRunning ? [:] : job.report.files, ranking: standing.ranking, paretoSet: standing.paretoSet)
    }

    /// A job's curve points after `sequence` (at most `limit`, the oldest first), or nil
    /// for an unknown job. An ended job that left memory is read from the ledger.
    public func curvesView(_ raw: String, after sequence: UInt64, limit: Int) -> CurveSet? {
        guard let job = job(named: raw) else { return nil }
        // An ended job read back from the ledger at start has its curves there, not here.
        if job.isRunning || !job.curves.isEmpty { return Self.window(job.curves, after: sequence, limit: limit) }
        var curves = CurveSet()
        for point in (try? ledger?.scalars(jobID: job.id.rawValue)) ?? [] { curves.restore(point) }
        return Self.window(curves, after: sequence, limit: limit)
    }

    private static func window(_ curves: CurveSet, after sequence: UInt64, limit: Int) -> CurveSet {
        guard sequence > 0 || curves.points.count > limit else { return curves }
        var window = CurveSet(capacity: curves.capacity)
        for point in curves.since(sequence).prefix(limit) { window.restore(point) }
        return window
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(json.utf8))
    }
}

/// One job as the dashboard's job page shows it.
public struct JobView: Sendable {
    /// Counters, state, progress and (once ended) the report, as the wire carries them.
    public let info: Orrery_V1_JobInfo
    public let specYAML: String
    /// The workload's report as JSON: live while the job runs, final once it ended.
    public let reportJSON: String
    /// The report's files (name → contents), once the job ended.
    public let files: [String: String]
    public let ranking: Ranking?
    public let paretoSet: ParetoSet?
}
