import Tensor

/// State a training loop's caller keeps beside the parameters and the optimizer — such as
/// the best meta-parameters meta-validation has seen — that must survive a checkpoint
/// for a resumed run to end as an undisturbed one: saved with every checkpoint the loop
/// commits (tensors under `kept.`, metadata beside the step), given back on resume.
protocol CheckpointCompanion: AnyObject {
    var checkpointTensors: [(name: String, tensor: Tensor)] { get }
    var checkpointMetadata: [String: String] { get }
    /// - Throws: `TaskError` when the checkpoint's record does not fit this run.
    func restore(tensors: [String: Tensor], metadata: [String: String]) throws
}
