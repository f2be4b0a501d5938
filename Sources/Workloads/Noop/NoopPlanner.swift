import Foundation

/// Plans `taskCount` identical tasks, keeping at most `window` planned ahead of the outcomes
/// so that a million-task job does not build a million leases up front.
final class NoopPlanner: Planner {
    private let taskCount: Int
    private let window: Int
    private let payload: Data
    private var planned = 0
    /// One bit per task, made when the job starts (a spec is validated by building its
    /// planner, which must cost nothing for a hundred million tasks).
    private var seen: [UInt64] = []
    private var succeeded = 0
    private var failed = 0
    private var duplicates = 0
    private var retried = 0
    private var firstFailure: String?

    init(taskCount: Int, window: Int, payload: Data) {
        self.taskCount = taskCount
        self.window = window
        self.payload = payload
    }

    private func plan(upTo limit: Int) -> [PlannedTask] {
        let end = min(taskCount, limit)
        defer { planned = max(planned, end) }
        return (planned..<max(planned, end)).map { PlannedTask(key: String($0), payload: payload) }
    }

    func start() -> [PlannedTask] {
        seen = Array(repeating: 0, count: (taskCount + 63) / 64)
        return plan(upTo: window)
    }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        guard let index = Int(outcome.key), (0..<taskCount).contains(index), index / 64 < seen.count else {
            duplicates += 1
            return []
        }
        let bit: UInt64 = 1 << UInt64(index % 64)
        if seen[index / 64] & bit != 0 {
            duplicates += 1
            return []
        }
        seen[index / 64] |= bit
        if outcome.attempts > 1 { retried += 1 }
        switch outcome.result {
        case .success: succeeded += 1
        case .failure(let message):
            failed += 1
            if firstFailure == nil { firstFailure = "task \(outcome.key): \(message)" }
        }
        return plan(upTo: succeeded + failed + window)
    }

    var isComplete: Bool { succeeded + failed == taskCount }

    var failureReason: String? {
        if duplicates > 0 { return "\(duplicates) task outcomes arrived more than once" }
        if let firstFailure { return "\(failed) of \(taskCount) tasks failed; first: \(firstFailure)" }
        return nil
    }

    var expectedTaskCount: Int? { taskCount }

    private struct Summary: Encodable {
        let tasks: Int
        let succeeded: Int
        let failed: Int
        let retried: Int
        let duplicateOutcomes: Int
    }

    func report() -> JobReport {
        let summary = Summary(
            tasks: taskCount, succeeded: succeeded, failed: failed, retried: retried, duplicateOutcomes: duplicates)
        let text = "noop: \(succeeded)/\(taskCount) tasks succeeded, \(failed) failed, "
            + "\(retried) needed more than one attempt, \(duplicates) duplicate outcomes"
        return JobReport(text: text, json: ReportJSON.encode(summary))
    }
}
