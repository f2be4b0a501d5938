import LanguageModels
import Tensor

/// One parameter-efficient way of adapting a frozen model to a task: what it trains, how
/// it turns texts into class logits, and what it saves. The tuner, the gang and the
/// checkpoints are the same for every method.
protocol TuningMethod: AnyObject {
    /// The trainable parameters, by the names they are saved and checkpointed under. The
    /// model's own weights are never among them.
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// Class logits [texts.count, classes], differentiable with respect to `parameters`.
    func logits(_ texts: [String]) throws(TensorError) -> Tensor
    /// Called once tuning ends, before the tuned model is scored (LoRA merges here).
    func finish() throws(TensorError)
    /// What a saved file holds (by default the parameters).
    func artifact() throws(TensorError) -> [(name: String, tensor: Tensor)]
    /// The same method, with the same parameters (not copies), on another problem's
    /// classifier: what multi-task tuning trains. Nil for a method whose parameters belong
    /// to one problem (a probe's classes, adapters on one model copy).
    func sharing(with classifier: any PromptableClassifier) -> (any TuningMethod)?
    /// The model under the classifier changed (its linear layers went int8): forget
    /// anything computed from the old weights.
    func modelChanged()
    /// A method that chooses a discrete prompt instead of training: what it chose, and the
    /// accuracy on the K-shot examples it chose by.
    var chosen: (prompt: String, shotAccuracy: Double)? { get }
}

extension TuningMethod {
    func finish() throws(TensorError) {}
    func artifact() throws(TensorError) -> [(name: String, tensor: Tensor)] { parameters }
    func sharing(with classifier: any PromptableClassifier) -> (any TuningMethod)? { nil }
    func modelChanged() {}
    var chosen: (prompt: String, shotAccuracy: Double)? { nil }
}

/// The untuned discrete prompt: the template and class descriptions alone.
final class ZeroShotMethod: TuningMethod {
    let classifier: any PromptableClassifier
    init(classifier: any PromptableClassifier) { self.classifier = classifier }
    var parameters: [(name: String, tensor: Tensor)] { [] }
    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try classifier.logits(texts, prompt: nil) }
}
