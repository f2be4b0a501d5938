import Foundation
import Wire

/// Plans a `prompt-tune` job: every (problem, seed, variant) is one task — a gang task when
/// `workers` is set — all planned at the start, so a cluster runs as many at once as it
/// has workers. Its state is the outcomes by key, so replaying them rebuilds it (the
/// `Planner` contract); the report reads them in planned order.
final class PromptTunePlanner: Planner {
    let tasks: [Orrery_V1_Workloads_PromptTuneTask]
    private let planned: [PlannedTask]
    private var outcomes: [String: TaskOutcome] = [:]

    init(tasks: [Orrery_V1_Workloads_PromptTuneTask]) {
        self.tasks = tasks
        planned = tasks.enumerated().map { index, task in
            PlannedTask(
                key: Self.key(index: index, task: task), payload: EnvelopeCodec.encodePayload(task),
                gang: SingleTaskPlanner.gang(minimum: task.workersMin, maximum: task.workersMax))
        }
    }

    /// "3-s1-soft-prompt/text": the task's place, seed and variant.
    static func key(index: Int, task: Orrery_V1_Workloads_PromptTuneTask) -> String {
        "\(index)-s\(task.seed)-\(task.variant)"
    }

    func start() -> [PlannedTask] { planned }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        outcomes[outcome.key] = outcome
        return []
    }

    var isComplete: Bool { outcomes.count == planned.count }

    var failureReason: String? {
        for task in planned {
            if case .failure(let message) = outcomes[task.key]?.result { return "task \(task.key): \(message)" }
        }
        return nil
    }

    var expectedTaskCount: Int? { planned.count }

    /// Each planned task's result, in planned order (nil: not in, failed or unreadable).
    var results: [(task: Orrery_V1_Workloads_PromptTuneTask, result: Orrery_V1_Workloads_PromptTuneResult?)] {
        zip(tasks, planned).map { task, plannedTask in
            guard case .success(let output) = outcomes[plannedTask.key]?.result else { return (task, nil) }
            return (task, try? Orrery_V1_Workloads_PromptTuneResult(serializedBytes: output.payload))
        }
    }

    func report() -> JobReport { PromptTuneReport(results: results).jobReport() }

    var plannedCost: String? {
        let steps = tasks.reduce(0) { $0 + ($1.hasMeta ? Int($1.meta.metaSteps) : $1.method == "zero-shot" ? 0 : Int($1.steps)) }
        return "\(planned.count) tuning task\(planned.count == 1 ? "" : "s"), \(steps) optimizer steps in all"
    }

    /// With one task, its own progress notes (steps, loss) say more than a count.
    var statusLine: String? {
        let done = outcomes.count
        return planned.count == 1 || done == planned.count ? nil : "\(done)/\(planned.count) tuning tasks done"
    }
}
