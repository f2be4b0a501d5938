import LanguageModels
import Tensor

/// Prompt tuning: P trainable input vectors in front of every text.
final class SoftPromptMethod: TuningMethod {
    let classifier: any PromptableClassifier
    let prompt: SoftPrompt

    init(classifier: any PromptableClassifier, initial: Tensor) {
        self.classifier = classifier
        prompt = SoftPrompt(initial: initial)
    }

    var parameters: [(name: String, tensor: Tensor)] { prompt.namedParameters() }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try classifier.logits(texts, prompt: prompt.vectors) }
}
