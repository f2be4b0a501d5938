import Foundation
import Wire

/// One task: train, evaluate, report. The report carries the test accuracy and throughput.
final class TrainPlanner: Planner {
    private let task: Orrery_V1_Workloads_TrainTask
    private var outcome: TaskOutcome?

    init(task: Orrery_V1_Workloads_TrainTask) { self.task = task }

    func start() -> [PlannedTask] {
        let gang = task.workersMax > 0 ? GangSize(minimum: Int(task.workersMin), maximum: Int(task.workersMax)) : nil
        return [PlannedTask(key: "train", payload: EnvelopeCodec.encodePayload(task), gang: gang)]
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
        let m = output.metrics
        let text = String(
            format: "%@ on %@: test accuracy %.2f%% (loss %.4f) after %d epoch(s); %.0f samples/s; %d parameters%@",
            task.model + Self.gangPhrase(m), task.dataset,
            100 * (m["test_accuracy"] ?? 0), m["test_loss"] ?? 0, MetricValue.count(m["epochs"]),
            m["samples_per_second"] ?? 0, MetricValue.count(m["parameters"]), task.savePath.isEmpty ? "" : "; saved to \(task.savePath)")
        return JobReport(text: text, json: ReportJSON.encode(m))
    }

    /// " on 2 workers (all-reduce through shared memory)", or nothing for one worker.
    private static func gangPhrase(_ metrics: [String: Double]) -> String {
        guard let workers = metrics["workers"], workers > 1 else { return "" }
        return " on \(MetricValue.count(workers)) workers" + (metrics["shared_memory"] == 1 ? " (all-reduce through shared memory)" : "")
    }
}
