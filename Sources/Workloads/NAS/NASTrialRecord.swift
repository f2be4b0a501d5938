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
    /// The state after `epochs`, kept only while a promotion could continue it.
    var checkpoint: Data?

    var devAccuracy: Double? { curve.last }
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
