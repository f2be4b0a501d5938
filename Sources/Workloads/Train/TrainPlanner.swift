import Foundation
import Wire

/// One task: train, evaluate, report. The report carries the test accuracy and throughput.
enum TrainPlanner {
    static func make(_ task: Orrery_V1_Workloads_TrainTask) -> SingleTaskPlanner {
        SingleTaskPlanner(
            key: "train", payload: EnvelopeCodec.encodePayload(task),
            gang: SingleTaskPlanner.gang(minimum: task.workersMin, maximum: task.workersMax)
        ) { report(task, $0) }
    }

    static func report(_ task: Orrery_V1_Workloads_TrainTask, _ output: TaskOutput) -> JobReport {
        let m = output.metrics
        let text = String(
            format: "%@ on %@: test accuracy %.2f%% (loss %.4f) after %d epoch(s); %.0f samples/s; %d parameters%@",
            (task.architecture["family"].map { "\($0) (architecture)" } ?? task.model) + Self.gangPhrase(m), task.dataset,
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
