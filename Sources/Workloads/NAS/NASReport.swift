import Foundation
import Search

/// A NAS job's report: the leaderboard, how far apart the space's architectures are, the
/// Pareto front with its hypervolume and plot, the final retrainings on the test split, and
/// the winner as a ready-to-run `train` spec.
struct NASReport {
    let planner: NASPlanner
    var plan: NASPlan { planner.plan }

    func make() -> JobReport {
        let front = NASFront(records: planner.records, reference: plan.reference)
        var files = ["trials.csv": trialsCSV(), "front.csv": frontCSV(front)]
        if front.points.count > 0 { files["front.svg"] = ParetoPlot.svg(front, title: "\(plan.strategy.rawValue): \(front.points.count) trials at \(front.epochs) epochs") }
        if let winner = winnerSpec() { files["winner.yaml"] = winner }
        return JobReport(text: text(front), json: ReportJSON.encode(summary(front)), files: files)
    }

    /// Best and median dev accuracy of the trials trained to the largest budget (the
    /// front's points): a space whose architectures all score alike cannot tell strategies
    /// apart.
    func spread(_ front: NASFront) -> (best: Double, median: Double, trials: Int)? {
        let scores = front.points.map(\.accuracy).sorted()
        guard !scores.isEmpty else { return nil }
        let median = scores.count % 2 == 1 ? scores[scores.count / 2] : (scores[scores.count / 2 - 1] + scores[scores.count / 2]) / 2
        return (scores.last!, median, scores.count)
    }

    private func text(_ front: NASFront) -> String {
        var lines = [
            "NAS on \(plan.dataset) (\(plan.strategy.rawValue)): \(planner.records.count) trials, \(planner.epochsTrained) of \(plan.budget) epochs"
                + (planner.trialsFailed > 0 ? ", \(planner.trialsFailed) failed" : ""),
        ]
        if let failure = planner.firstFailure { lines.append("first failure: \(failure)") }
        if let spread = spread(front) {
            lines.append(String(format: "dev accuracy at %d epochs over %d trials: best %.2f%%, median %.2f%% (gap %.2f points)",
                front.epochs, spread.trials, 100 * spread.best, 100 * spread.median, 100 * (spread.best - spread.median)))
        }
        if planner.promotionsOnKeeper + planner.promotionsElsewhere > 0 {
            lines.append("promoted trials: \(planner.promotionsOnKeeper) on the worker that kept their state, \(planner.promotionsElsewhere) elsewhere (from the committed copy)"
                + (planner.epochsRetrained > 0 ? "; \(planner.epochsRetrained) epochs trained again (no state found)" : ""))
        }
        let gaps = WorkerSpan.idleGaps(planner.spans)
        if !gaps.isEmpty {
            lines.append(String(format: "workers idle between trials: median %.2f ms, p90 %.2f ms over %d gaps", percentile(gaps, 0.5), percentile(gaps, 0.9), gaps.count))
        }
        lines.append("leaderboard (dev accuracy at the largest budget each reached):")
        for (rank, entry) in planner.ranked.prefix(10).enumerated() {
            let record = planner.trial(entry.configuration)
            lines.append(String(format: "%3d. %6.2f%%  %2d ep  %8d params  %7.3f ms  %@", rank + 1, 100 * entry.score, entry.epochs,
                record?.parameters ?? 0, record?.latencyMs ?? 0, entry.configuration.description))
        }
        lines.append(String(format: "Pareto front (max accuracy, min parameters, min latency) of %d trials at %d epochs: %d points, hypervolume %.4f of the reference box",
            front.points.count, front.epochs, front.front.count, front.hypervolume))
        for index in front.front {
            let point = front.points[index]
            lines.append(String(format: "     %6.2f%%  %8d params  %7.3f ms  %@", 100 * point.accuracy, point.record.parameters, point.record.latencyMs, point.record.configuration.description))
        }
        if let (fastest, ratio) = front.fastest(within: 0.01) {
            lines.append(String(format: "fastest on the front within 1 point of its best: %.2f%% at %.2f× the best's latency", 100 * fastest.accuracy, ratio))
        }
        for final in planner.finals {
            if let test = final.testAccuracy {
                lines.append(String(format: "final %d (dev %.2f%%), retrained on all training data for %d epochs: test accuracy %.2f%%%@", final.rank,
                    100 * final.devAccuracy, plan.final?.epochs ?? 0, 100 * test, final.savedTo.map { "; weights in \($0)" } ?? ""))
            } else {
                lines.append("final \(final.rank): \(final.failure ?? "not finished")")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The value below which `fraction` of the sorted `values` lie (nearest rank).
    private func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let rank = Int((fraction * Double(values.count)).rounded(.up))
        return values[min(values.count, max(1, rank)) - 1]
    }

    private func trialsCSV() -> String {
        var rows = ["trial,epochs,dev_accuracy,parameters,latency_ms,seconds,failed,configuration"]
        for record in planner.records {
            rows.append("\(record.id),\(record.epochs),\(record.devAccuracy.map { String(format: "%.4f", $0) } ?? ""),\(record.parameters),"
                + String(format: "%.4f,%.1f", record.latencyMs, record.seconds) + ",\(record.failed),\"\(record.configuration)\"")
        }
        return rows.joined(separator: "\n") + "\n"
    }

    private func frontCSV(_ front: NASFront) -> String {
        var rows = ["trial,dev_accuracy,parameters,latency_ms,configuration"]
        for index in front.front {
            let record = front.points[index].record
            rows.append("\(record.id)," + String(format: "%.4f", front.points[index].accuracy) + ",\(record.parameters)," + String(format: "%.4f", record.latencyMs) + ",\"\(record.configuration)\"")
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// The best configuration on dev as a `train` job: the same model, optimizer and
    /// schedule as its final retraining, so `orrery train winner.yaml` trains it again.
    func winnerSpec() -> String? {
        guard let best = planner.ranked.first else { return nil }
        let values = best.configuration.values
        let architecture = best.configuration.settings.filter { !ArchitectureRecipe.trainingSettings.contains($0.name) }
        var lines = [
            "# The best architecture of a `nas` search (\(plan.strategy.rawValue)): " + String(format: "dev accuracy %.2f%% after %d epochs.", 100 * best.score, best.epochs),
            "# Run with `orrery train winner.yaml`.",
            "name: nas-winner",
            "workload: train",
            "train:",
            "  dataset: \(plan.dataset)",
            "  architecture:",
        ]
        lines += architecture.map { "    \($0.name): \($0.value)" }
        for name in ["optimizer", "learning_rate", "batch_size", "weight_decay"] {
            if let value = values[name] { lines.append("  \(name): \(value)") }
        }
        if values["optimizer"]?.description == "sgd", let momentum = values["momentum"] { lines.append("  momentum: \(momentum)") }
        lines += [
            "  schedule: \(plan.schedule)",
            "  epochs: \(plan.final?.epochs ?? plan.epochs)",
            "  seed: \(plan.seed)",
            "  save: \(plan.final?.save ?? "nas-winner.safetensors")",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    private struct Summary: Encodable {
        struct Entry: Encodable {
            let trial: Int
            let configuration: String
            let devAccuracy: Double
            let epochs: Int
            let parameters: Int
            let latencyMs: Double
        }
        struct Final: Encodable {
            let rank: Int
            let configuration: String
            let devAccuracy: Double
            let testAccuracy: Double?
            let parameters: Int
            let latencyMs: Double
            let savedTo: String?
            let failure: String?
        }
        let strategy: String
        let trials: Int
        let epochsTrained: Int
        let budget: Int
        let failed: Int
        /// Trials whose attempt resumed from a mid-trial checkpoint after a worker died.
        let resumed: [Int]
        let best: Entry?
        let medianDevAccuracy: Double?
        let leaderboard: [Entry]
        let front: [Entry]
        let hypervolume: Double
        let finals: [Final]
        /// Milliseconds each worker sat idle between two trials, sorted.
        let idleGapsMs: [Double]
        /// Promoted trials that continued on the worker keeping their state, and elsewhere.
        let promotionsOnKeeper: Int
        let promotionsElsewhere: Int
        /// Epochs trained twice by promoted trials that found no state.
        let epochsRetrained: Int
    }

    private func summary(_ front: NASFront) -> Summary {
        func entry(_ record: NASTrialRecord) -> Summary.Entry {
            Summary.Entry(trial: record.id, configuration: record.configuration.description, devAccuracy: record.devAccuracy ?? 0,
                epochs: record.epochs, parameters: record.parameters, latencyMs: record.latencyMs)
        }
        let leaderboard = planner.ranked.compactMap { planner.trial($0.configuration) }.map(entry)
        return Summary(
            strategy: plan.strategy.rawValue, trials: planner.records.count, epochsTrained: planner.epochsTrained, budget: plan.budget,
            failed: planner.trialsFailed, resumed: planner.records.filter(\.resumed).map(\.id), best: leaderboard.first, medianDevAccuracy: spread(front)?.median, leaderboard: leaderboard,
            front: front.front.map { entry(front.points[$0].record) }, hypervolume: front.hypervolume,
            finals: planner.finals.map {
                Summary.Final(rank: $0.rank, configuration: $0.configuration.description, devAccuracy: $0.devAccuracy, testAccuracy: $0.testAccuracy,
                    parameters: $0.parameters, latencyMs: $0.latencyMs, savedTo: $0.savedTo, failure: $0.failure)
            }, idleGapsMs: WorkerSpan.idleGaps(planner.spans), promotionsOnKeeper: planner.promotionsOnKeeper,
            promotionsElsewhere: planner.promotionsElsewhere, epochsRetrained: planner.epochsRetrained)
    }
}
