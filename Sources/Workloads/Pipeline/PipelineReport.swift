import Foundation
import Runtime
import Wire

/// The pipeline job's report: test accuracy and throughput of the pipeline, its measured
/// bubble beside the ideal (S−1)/(M+S−1), each stage's kept micro-batches and tensor memory growth,
/// and the same training on one worker beside it when it ran.
enum PipelineReport {
    /// Where the one-worker comparison saves its model: `model.safetensors` → `model.single.safetensors`.
    static func singlePath(_ path: String) -> String {
        guard let dot = path.range(of: ".", options: .backwards), !path[dot.upperBound...].contains("/") else { return path + ".single" }
        return path[..<dot.lowerBound] + ".single" + path[dot.lowerBound...]
    }

    /// Worker metrics are untrusted numbers: shown only when finite.
    private static func value(_ metrics: [String: Double], _ key: String) -> Double {
        MetricValue.amount(metrics[key] ?? 0)
    }

    static func make(task: Orrery_V1_Workloads_PipelineTask, pipeline: TaskOutput?, single: TaskOutput?) -> JobReport {
        var lines: [String] = []
        var json: [String: [String: Double]] = [:]
        if let pipeline {
            let m = pipeline.metrics
            let details = (try? JSONSerialization.jsonObject(with: pipeline.payload)) as? [String: String] ?? [:]
            let stages = MetricValue.count(m["stages"])
            let perStage = { (key: String, format: String) in
                (0..<min(stages, 64)).map { String(format: format, value(m, "\(key)\($0)")) }.joined(separator: " ")
            }
            lines.append(String(
                format: "pipeline: %@ on %@, %d stage(s) (units %@) × %d replica(s), %@, %d micro-batches of a %d-example batch",
                task.model, task.dataset, stages, details["partition"].map { PrintableText.escaped($0, limit: 200) } ?? "?",
                MetricValue.count(m["replicas"]), task.schedule, task.microBatches, task.batchSize))
            lines.append(String(
                format: "  test accuracy %.2f%% (loss %.4f) on %d examples after %d steps; train loss %.4f; %.1f samples/s",
                100 * value(m, "test_accuracy"), value(m, "test_loss"), MetricValue.count(m["test_examples"]), MetricValue.count(m["steps"]),
                value(m, "train_loss"), value(m, "samples_per_second")))
            lines.append(String(
                format: "  bubble %.3f measured (ideal %.3f); by stage: %@; kept micro-batches at most: %@; tensor memory growth (MiB): %@",
                value(m, "bubble"), value(m, "ideal_bubble"), perStage("bubble_stage", "%.3f"), perStage("peak_live_stage", "%.0f"),
                perStage("peak_tensor_mb_stage", "%.1f")))
            if let epochs = details["accuracy_by_epoch"], !epochs.isEmpty { lines.append("  accuracy by epoch: " + PrintableText.escaped(epochs, limit: 400)) }
            json["pipeline"] = m.filter { $0.value.isFinite }
        }
        if let single {
            let m = single.metrics
            lines.append(String(
                format: "one worker: test accuracy %.2f%% (loss %.4f) after %d steps; %.1f samples/s",
                100 * value(m, "test_accuracy"), value(m, "test_loss"), MetricValue.count(m["steps"]), value(m, "samples_per_second")))
            if let pipeline, value(m, "samples_per_second") > 0 {
                lines.append(String(
                    format: "  pipeline / one worker: accuracy %+.2f points, throughput %.2f×",
                    100 * (value(pipeline.metrics, "test_accuracy") - value(m, "test_accuracy")),
                    value(pipeline.metrics, "samples_per_second") / value(m, "samples_per_second")))
            }
            json["single"] = m.filter { $0.value.isFinite }
        }
        return JobReport(text: lines.joined(separator: "\n"), json: ReportJSON.encode(json))
    }
}
