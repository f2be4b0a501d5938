import Foundation
import Wire

/// What a meta-learn task returns (as its payload, JSON): every method's accuracy on every
/// meta-test episode, the meta-parameters' digest and meta-training's figures.
struct MetaLearnResult: Codable, Equatable {
    let rows: [FewShotEvaluation.Row]
    let metaParametersSHA256: String
    let queryLoss: Double
    let queryAccuracy: Double
    let episodesPerSecond: Double
    let seconds: Double
    let workers: Int
    let resumedAt: Int
    let parameters: Int
    /// Meta-validation's choice, when the task validates.
    var validation: Validation? = nil

    /// The meta-step whose meta-parameters were kept, and every scoring.
    struct Validation: Codable, Equatable {
        let step: Int
        let accuracy: Double
        let history: [Scoring]

        struct Scoring: Codable, Equatable {
            let step: Int
            let accuracy: Double
        }
    }

    /// Flat metrics: `<method>_<k>shot_accuracy` and `…_ci95` per row, and the run's figures.
    func metrics(_ task: Orrery_V1_Workloads_MetaLearnTask) -> [String: Double] {
        var metrics: [String: Double] = [
            "meta_train_query_loss": queryLoss, "meta_train_query_accuracy": queryAccuracy,
            "episodes_per_second": episodesPerSecond, "seconds": seconds, "workers": Double(workers),
            "resumed_at_step": Double(resumedAt), "parameters": Double(parameters), "meta_steps": Double(task.metaSteps),
        ]
        if let validation {
            metrics["validation_step"] = Double(validation.step)
            metrics["validation_accuracy"] = validation.accuracy
        }
        for row in rows {
            let interval = FewShotEvaluation.interval(row)
            let name = "\(row.method.replacingOccurrences(of: "-", with: "_"))_\(row.shots)shot"
            metrics[name + "_accuracy"] = interval.estimate
            metrics[name + "_ci95"] = interval.halfWidth
        }
        return metrics
    }
}

extension MetaLearnResult.Validation {
    /// Nil before any finite scoring (JSON has no NaN to write).
    init?(_ validation: MetaValidation) {
        guard let best = validation.best else { return nil }
        self.init(
            step: best.step, accuracy: best.accuracy,
            history: validation.history.filter { $0.accuracy.isFinite }.map { Scoring(step: $0.step, accuracy: $0.accuracy) })
    }
}
