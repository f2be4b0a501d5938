import LanguageModels
import Tensor

/// Prompt tuning: P trainable input vectors in front of every text.
final class SoftPromptMethod: TuningMethod {
    let classifier: any PromptableClassifier
    let prompt: SoftPrompt

    convenience init(classifier: any PromptableClassifier, initial: Tensor) {
        self.init(classifier: classifier, prompt: SoftPrompt(initial: initial))
    }

    private init(classifier: any PromptableClassifier, prompt: SoftPrompt) {
        self.classifier = classifier
        self.prompt = prompt
    }

    func sharing(with classifier: any PromptableClassifier) -> (any TuningMethod)? { SoftPromptMethod(classifier: classifier, prompt: prompt) }

    var parameters: [(name: String, tensor: Tensor)] { prompt.namedParameters() }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try classifier.logits(texts, prompt: prompt.vectors) }
}
