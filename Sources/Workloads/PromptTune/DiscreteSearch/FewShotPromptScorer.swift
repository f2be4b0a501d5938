import Datasets
import Tensor

/// What a K-shot prompt search needs from a frozen model: the class logits of the K-shot
/// examples under one discrete prompt, and of other texts under the prompt it chose.
/// MiniLM compares embeddings (`EncoderPromptScorer`), SmolLM2 reads verbalizer
/// likelihoods (`LikelihoodPromptScorer`).
protocol FewShotPromptScorer: AnyObject {
    /// Logits [shots.count][classes] of the shots. With `prototypes`, each shot is scored
    /// against class vectors built without it (leave-one-out), so that a prompt is never
    /// judged by recognising a text it contains.
    func shotLogits(_ prompt: DiscretePrompt, shots: LabeledText) throws(TensorError) -> [[Float]]
    /// Logits [texts.count, classes] of `texts`; with `prototypes`, every shot is in its class's vector.
    func logits(_ prompt: DiscretePrompt, shots: LabeledText, texts: [String]) throws(TensorError) -> Tensor
    /// The model's weights changed (int8): embeddings computed before no longer hold.
    func modelChanged()
}

extension FewShotPromptScorer {
    func modelChanged() {}
}

/// One candidate of a K-shot search made concrete for a problem's classes.
struct DiscretePrompt: Hashable, CustomStringConvertible {
    let template: String
    /// One per class, the pattern filled in.
    let descriptions: [String]
    /// The pattern the descriptions came from (what the report shows).
    let pattern: String
    let prototypes: Bool

    var description: String { "template \"\(template)\", classes \"\(pattern)\"\(prototypes ? ", shots as prototypes" : "")" }
}
