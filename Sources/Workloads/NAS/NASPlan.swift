import Datasets
import Search

/// Everything a `nas` job spec says, checked.
struct NASPlan {
    enum Strategy: String, CaseIterable {
        case random, evolution, asha, hyperband
        /// Strategies that continue a trial to a larger budget (so its checkpoint is kept).
        var promotes: Bool { self == .asha || self == .hyperband }
    }

    /// How a promotable trial's state reaches its promotion.
    enum PromotionState: String, CaseIterable {
        /// Kept in the memory of the worker that trained it, where the promoted trial is
        /// leased when that worker is free, so no checkpoint lies between one trial and the
        /// next; a copy follows the trial's result to the coordinator (and its ledger) as
        /// the task's final checkpoint, for a promotion that lands on another worker (its
        /// lease carries it) or outlives its worker.
        case kept
        /// Inside the trial's result and the promoted trial's payload (the first design):
        /// the same state, but its bytes make the round trip between the two trials.
        case returned
    }

    /// Where the hypervolume is measured from: the worst accuracy, size and latency that
    /// still count.
    struct Reference: Equatable {
        var accuracy: Double
        var parameters: Double
        var latencyMs: Double
    }

    /// The retraining of the best configurations on all training data, scored on test.
    struct Final: Equatable {
        var top: Int
        var epochs: Int
        var save: String?
    }

    var dataset: String
    var space: SearchSpace
    var strategy: Strategy
    /// Epochs over all trials (the budget every strategy is compared at).
    var budget: Int
    /// R: a trial's largest budget in epochs, and the length of its learning-rate schedule.
    var epochs: Int
    /// r: ASHA's and Hyperband's smallest budget.
    var minimumEpochs: Int
    var reduction: Int
    var population: Int
    var tournament: Int
    var parallel: Int
    var devExamples: Int
    var trainLimit: Int
    var splitSeed: UInt64
    var seed: UInt64
    var schedule: String
    var latencyRuns: Int
    var reference: Reference
    var final: Final?
    var promotionState: PromotionState = .kept

    /// Full-budget trials that fit the budget (random search and evolution).
    var fullTrials: Int { budget / epochs }
}
