import Foundation
import Search

/// What the planner knows of one configuration: how far it has been trained, its dev
/// curve, size and latency, and (while it may still be promoted) its latest checkpoint.
struct NASTrialRecord {
    /// Its number, in the order trials were first asked for: task keys and tables use it.
    let id: Int
    let configuration: Configuration
    /// Epochs trained so far (its latest rung's budget once that result is in).
    var epochs = 0
    /// Dev accuracy after each epoch.
    var curve: [Double] = []
    var parameters = 0
    var latencyMs = 0.0
    var seconds = 0.0
    var failed = false
    /// True when an attempt resumed from a checkpoint committed mid-trial (its first
    /// worker died), rather than starting where the task did.
    var resumed = false
    /// Where the state after `epochs` is, only while a promotion could continue it.
    var state: SavedState?

    var devAccuracy: Double? { curve.last }
}

/// Where a promotable trial's state waits (see `NASPlan.PromotionState`).
enum SavedState: Equatable {
    /// The checkpoint itself, returned in the trial's result.
    case bytes(Data)
    /// Kept in the memory of `worker` under `id`; a copy is task `task`'s last checkpoint.
    case kept(id: String, worker: String, task: String)
}

/// A final retraining of one of the best configurations on all training data.
struct NASFinalRecord {
    let rank: Int
    let configuration: Configuration
    let devAccuracy: Double
    var testAccuracy: Double?
    var parameters = 0
    var latencyMs = 0.0
    var seconds = 0.0
    var savedTo: String?
    var failure: String?
}
