import Foundation

/// Plans `taskCount` identical tasks, keeping at most `window` planned ahead of the outcomes
/// so that a million-task job does not build a million leases up front.
final class NoopPlanner: Planner {
    private let taskCount: Int
    private let window: Int
    private let payload: Data
    private var planned = 0
    private var seen: [Bool]
    private var succeeded = 0
    private var failed = 0
    private var duplicates = 0
    private var retried = 0
    private var firstFailure: String?

    init(taskCount: Int, window: Int, payload: Data) {
        self.taskCount = taskCount
        self.window = window
        self.payload = payload
        self.seen = Array(repeating: false, count: taskCount)
    }

    private func plan(upTo limit: Int) -> [PlannedTask] {
        let end = min(taskCount, limit)
        defer { planned = max(planned, end) }
        return (planned..<max(planned, end)).map { PlannedTask(key: String($0), payload: payload) }
    }

    func start() -> [PlannedTask] { plan(upTo: window) }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        guard let index = Int(outcome.key), seen.indices.contains(index) else {
            duplicates += 1
            return []
        }
        if seen[index] {
            duplicates += 1
            return []
        }
        seen[index] = true
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
