import Foundation
import Wire

/// The job's report: a table of mean accuracy ± 95% interval per method and shot count,
/// JSON with the same figures and the meta-parameters' digest, a CSV of every episode's
/// accuracy per method (`episodes.csv`) and, when the task validates, of every
/// meta-validation scoring (`validation.csv`).
struct MetaLearnReport {
    let task: Orrery_V1_Workloads_MetaLearnTask
    let output: TaskOutput

    func jobReport() -> JobReport {
        guard let result = try? JSONDecoder().decode(MetaLearnResult.self, from: output.payload) else {
            return JobReport(text: "meta-learn: the task's result could not be read", json: ReportJSON.encode(output.metrics))
        }
        var lines = [
            String(
                format: "%@ on %@, %d-way %d-shot, %d meta-steps × %d episodes on %d worker(s): %.0f episodes/s; meta-train query accuracy %.2f%%",
                task.algorithm, task.benchmark, task.ways, task.shots, task.metaSteps, task.metaBatch, result.workers,
                result.episodesPerSecond, 100 * result.queryAccuracy),
            "meta-test (\(task.evalEpisodes) episodes per row, \(task.queries) queries per class), mean accuracy ± 95% interval:",
        ]
        for row in result.rows {
            let interval = FewShotEvaluation.interval(row)
            let method = row.method.padding(toLength: max(row.method.count, 14), withPad: " ", startingAt: 0)
            let rate = row.rate.map { String(format: "  (fine-tuned at lr %g)", $0) } ?? ""
            lines.append(String(format: "  %@ %2d-shot  %6.2f%% ± %.2f%@", method, row.shots, 100 * interval.estimate, 100 * interval.halfWidth, rate))
        }
        if let validation = result.validation {
            lines.append(String(
                format: "meta-parameters chosen on meta-validation: meta-step %d of %d (%.2f%% on %d episodes; %d scorings)",
                validation.step, task.metaSteps, 100 * validation.accuracy, task.validationEpisodes, validation.history.count))
        }
        lines.append("meta-parameters sha256 \(result.metaParametersSHA256)" + (task.savePath.isEmpty ? "" : "; saved to \(task.savePath)"))
        var json = output.metrics.mapValues { ReportValue.number($0) }
        json["meta_parameters_sha256"] = .text(result.metaParametersSHA256)
        json["algorithm"] = .text(task.algorithm)
        var files = ["episodes.csv": episodesCSV(result)]
        if let validation = result.validation {
            files["validation.csv"] = "step,accuracy\n" + validation.history.map { "\($0.step),\($0.accuracy)\n" }.joined()
        }
        return JobReport(text: lines.joined(separator: "\n"), json: ReportJSON.encode(json), files: files)
    }

    /// One line per method, shot count and episode.
    private func episodesCSV(_ result: MetaLearnResult) -> String {
        var csv = "method,shots,episode,accuracy\n"
        for row in result.rows {
            for (index, accuracy) in row.accuracies.enumerated() { csv += "\(row.method),\(row.shots),\(index),\(accuracy)\n" }
        }
        return csv
    }
}

/// A report JSON value: a number or a text.
enum ReportValue: Encodable {
    case number(Double)
    case text(String)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}
