import Datasets
import Tensor

/// The best discrete prompt found on the K-shot examples (`DiscreteSearch`), the baseline a
/// tuned prompt must beat when both see the same few examples. It trains nothing: the
/// search happens when the method is made, and the chosen prompt classifies the test texts.
final class DiscreteSearchMethod: TuningMethod {
    let choice: DiscreteSearch.Choice
    private let scorer: any FewShotPromptScorer
    private let shots: LabeledText

    init(search: DiscreteSearch, shots: LabeledText, scorer: any FewShotPromptScorer) throws {
        choice = try withNoGrad { () throws in try search.choose(shots: shots, scorer: scorer) }
        self.scorer = scorer
        self.shots = shots
    }

    var parameters: [(name: String, tensor: Tensor)] { [] }

    func logits(_ texts: [String]) throws(TensorError) -> Tensor { try scorer.logits(choice.prompt, shots: shots, texts: texts) }

    /// The prompt chosen stays; its class vectors are computed again with the new weights.
    func modelChanged() { scorer.modelChanged() }

    var chosen: (prompt: String, shotAccuracy: Double)? { (choice.prompt.description, choice.shotAccuracy) }
}
