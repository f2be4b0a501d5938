import Foundation
import Wire

/// The pipeline job: one gang task of stages × replicas workers ("pipeline"), and with
/// `compare_single` the same training on one worker over whole batches ("single"), so the
/// report sets the two side by side. State is the tasks' outcomes, so replaying them
/// rebuilds the planner (the `Planner` contract).
final class PipelinePlanner: Planner {
    let task: Orrery_V1_Workloads_PipelineTask
    let compareSingle: Bool
    private var outcomes: [String: TaskOutcome] = [:]

    init(task: Orrery_V1_Workloads_PipelineTask, compareSingle: Bool) {
        self.task = task
        self.compareSingle = compareSingle
    }

    /// The same training alone: one stage, one replica, one micro-batch per step.
    var singleTask: Orrery_V1_Workloads_PipelineTask {
        var single = task
        (single.stages, single.replicas, single.microBatches) = (1, 1, 1)
        single.unitsPerStage = []
        single.savePath = task.savePath.isEmpty ? "" : PipelineReport.singlePath(task.savePath)
        return single
    }

    func start() -> [PlannedTask] {
        let members = Int(task.stages * task.replicas)
        var tasks = [PlannedTask(
            key: "pipeline", payload: EnvelopeCodec.encodePayload(task), gang: members > 1 ? GangSize(minimum: members, maximum: members) : nil)]
        if compareSingle { tasks.append(PlannedTask(key: "single", payload: EnvelopeCodec.encodePayload(singleTask))) }
        return tasks
    }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        outcomes[outcome.key] = outcome
        return []
    }

    var isComplete: Bool { outcomes.count == (compareSingle ? 2 : 1) }

    var failureReason: String? {
        for key in ["pipeline", "single"] {
            if case .failure(let message)? = outcomes[key]?.result { return "\(key): \(message)" }
        }
        return nil
    }

    var expectedTaskCount: Int? { compareSingle ? 2 : 1 }

    func report() -> JobReport {
        func output(_ key: String) -> TaskOutput? {
            if case .success(let output)? = outcomes[key]?.result { return output }
            return nil
        }
        return PipelineReport.make(task: task, pipeline: output("pipeline"), single: output("single"))
    }
}
