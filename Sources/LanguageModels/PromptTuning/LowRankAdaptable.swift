import Tensor

/// A pretrained model that LoRA adapters can be attached to (on its attention's query and
/// value projections), trained unmerged, and merged into its weights.
public protocol LowRankAdaptable: AnyObject {
    /// Gives every layer fresh rank-`rank` adapters (seeded); they start as a no-op.
    func attachAdapters(rank: Int, alpha: Float, seed: UInt64)
    /// Every adapter's parameters, by name; empty when none are attached.
    func adapterParameters() -> [(name: String, tensor: Tensor)]
    /// Folds every adapter into its projection's weight and removes it.
    func mergeAdapters() throws(TensorError)
}

extension BertModel: LowRankAdaptable {}
extension LlamaModel: LowRankAdaptable {}
