import Foundation
import Wire

/// One task (a gang task when `workers` is set): meta-train, evaluate, report.
final class MetaLearnPlanner: Planner {
    private let task: Orrery_V1_Workloads_MetaLearnTask
    private var outcome: TaskOutcome?

    init(task: Orrery_V1_Workloads_MetaLearnTask) { self.task = task }

    func start() -> [PlannedTask] {
        let gang = task.workersMax > 0 ? GangSize(minimum: Int(task.workersMin), maximum: Int(task.workersMax)) : nil
        return [PlannedTask(key: "meta-learn", payload: EnvelopeCodec.encodePayload(task), gang: gang)]
    }

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
        return MetaLearnReport(task: task, output: output).jobReport()
    }
}
