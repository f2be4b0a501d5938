import LanguageModels
import NN
import Tensor

/// P-tuning: the prompt is produced by a small residual MLP from trainable inputs; what is
/// saved is the prompt it produces (usable as a plain soft prompt) and the network.
final class PTuningMethod: TuningMethod {
    let classifier: any PromptableClassifier
    let encoder: PromptReparameterization

    convenience init(classifier: any PromptableClassifier, initial: Tensor, hidden: Int, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        self.init(classifier: classifier, encoder: PromptReparameterization(initial: initial, hidden: hidden, using: &generator))
    }

    private init(classifier: any PromptableClassifier, encoder: PromptReparameterization) {
        self.classifier = classifier
        self.encoder = encoder
    }

    func sharing(with classifier: any PromptableClassifier) -> (any TuningMethod)? { PTuningMethod(classifier: classifier, encoder: encoder) }

    var parameters: [(name: String, tensor: Tensor)] { PromptReparameterization.prefixed("reparameterization", encoder.namedParameters()) }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try classifier.logits(texts, prompt: encoder.prompt()) }

    func artifact() throws(TensorError) -> [(name: String, tensor: Tensor)] {
        [("prompt", try withNoGrad { () throws(TensorError) in try encoder.prompt() })] + parameters
    }
}
