import LanguageModels
import Tensor

/// LoRA: rank-r updates of every layer's query and value projections (MiniLM's or
/// SmolLM2's), trained unmerged and merged into the weights when tuning ends. The model is
/// this task's own copy, since merging changes its weights.
final class LoRAMethod: TuningMethod {
    let classifier: any PromptableClassifier
    private var saved: [(name: String, tensor: Tensor)] = []

    init(classifier: any PromptableClassifier, rank: Int, alpha: Float, seed: UInt64) {
        self.classifier = classifier
        classifier.adaptableModel.attachAdapters(rank: rank, alpha: alpha, seed: seed)
    }

    var parameters: [(name: String, tensor: Tensor)] { classifier.adaptableModel.adapterParameters() }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try classifier.logits(texts, prompt: nil) }

    func finish() throws(TensorError) {
        saved = parameters
        try classifier.adaptableModel.mergeAdapters()
    }

    /// The adapters (A and B of each projection), which the merged weights no longer show.
    func artifact() throws(TensorError) -> [(name: String, tensor: Tensor)] { saved.isEmpty ? parameters : saved }
}
