import Foundation

/// A job that is one task, a gang task when it has a gang size (`train`, `meta-learn`):
/// plan it, take its outcome, and turn a success into the workload's report. Its state is
/// that one outcome, so replaying it rebuilds the planner (the `Planner` contract).
final class SingleTaskPlanner: Planner {
    private let task: PlannedTask
    private let describe: (TaskOutput) -> JobReport
    private var outcome: TaskOutcome?

    init(key: String, payload: Data, gang: GangSize?, report describe: @escaping (TaskOutput) -> JobReport) {
        task = PlannedTask(key: key, payload: payload, gang: gang)
        self.describe = describe
    }

    /// The gang a task's `workers_min`/`workers_max` ask for (none when both are 0).
    static func gang(minimum: UInt32, maximum: UInt32) -> GangSize? {
        maximum > 0 ? GangSize(minimum: Int(minimum), maximum: Int(maximum)) : nil
    }

    func start() -> [PlannedTask] { [task] }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        self.outcome = outcome
        return []
    }

    var isComplete: Bool { outcome != nil }

    var failureReason: String? {
        if case .failure(let message) = outcome?.result { return message }
        return nil
    }

    var expectedTaskCount: Int? { 1 }

    func report() -> JobReport {
        guard case .success(let output) = outcome?.result else { return JobReport(text: "", json: "{}") }
        return describe(output)
    }
}
