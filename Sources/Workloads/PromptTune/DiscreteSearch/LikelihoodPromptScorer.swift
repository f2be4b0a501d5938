import Datasets
import LanguageModels
import Tensor

/// K-shot prompt scoring with the causal LM: the logits of each class's verbalizer after
/// the filled-in template, exactly as the untuned discrete prompt of a tuning job is scored
/// (`PromptedLikelihoodClassifier` with no soft prompt). No prototypes: a shot shown in the
/// prompt would need a prompt per held-out shot.
final class LikelihoodPromptScorer: FewShotPromptScorer {
    private let model: CausalLanguageModel
    private let maxTextTokens: Int
    private let chunk: Int

    init(model: CausalLanguageModel, maxTextTokens: Int, chunk: Int) {
        self.model = model
        self.maxTextTokens = maxTextTokens
        self.chunk = max(1, chunk)
    }

    func shotLogits(_ prompt: DiscretePrompt, shots: LabeledText) throws(TensorError) -> [[Float]] {
        let values = try logits(prompt, shots: shots, texts: shots.texts)
        let classes = prompt.descriptions.count
        let scalars = values.scalars
        return (0..<shots.count).map { Array(scalars[($0 * classes)..<(($0 + 1) * classes)]) }
    }

    func logits(_ prompt: DiscretePrompt, shots: LabeledText, texts: [String]) throws(TensorError) -> Tensor {
        guard !prompt.prototypes else { throw TensorError(.invalidArgument("SmolLM2's discrete search takes no prototypes")) }
        let classifier = try PromptedLikelihoodClassifier(
            model: model, template: prompt.template, verbalizers: prompt.descriptions, maxTextTokens: maxTextTokens)
        var parts: [Tensor] = []
        for start in stride(from: 0, to: texts.count, by: chunk) {
            let batch = Array(texts[start..<min(texts.count, start + chunk)])
            parts.append(try withNoGrad { () throws(TensorError) in try classifier.logits(batch, prompt: nil) })
        }
        return try Tensor.concatenate(parts, axis: 0)
    }
}
