import Foundation
import LanguageModels
import Tensor

/// A linear probe: logistic regression on the frozen model's features (MiniLM's sentence
/// embedding, SmolLM2's last hidden state), the transfer baseline prompt methods must beat.
/// Features are computed once per text.
final class LinearProbeMethod: TuningMethod {
    let classifier: any PromptableClassifier
    let weight: Tensor
    let bias: Tensor
    private var cache: [String: [Float]] = [:]

    init(classifier: any PromptableClassifier) {
        self.classifier = classifier
        weight = Tensor.zeros([classifier.classCount, classifier.featureWidth]).requiringGrad()
        bias = Tensor.zeros([classifier.classCount]).requiringGrad()
    }

    var parameters: [(name: String, tensor: Tensor)] { [("probe.weight", weight), ("probe.bias", bias)] }

    func modelChanged() { cache = [:] }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor {
        let missing = Array(Set(texts.filter { cache[$0] == nil })).sorted()
        if !missing.isEmpty {
            let computed = try classifier.features(missing).scalars
            let width = classifier.featureWidth
            for (row, text) in missing.enumerated() { cache[text] = Array(computed[(row * width)..<((row + 1) * width)]) }
        }
        let features = try Tensor(texts.flatMap { cache[$0]! }, shape: [texts.count, classifier.featureWidth])
        return try features.linear(weight: weight, bias: bias)
    }
}
