import Tensor

/// A frozen pretrained model turned into a classifier whose input can carry a soft prompt:
/// what prompt tuning, P-tuning, LoRA and a linear probe train against. Logits are
/// differentiable with respect to the prompt (and to any adapters attached to the model);
/// the model's own weights never receive a gradient.
public protocol PromptableClassifier: AnyObject, Sendable {
    /// Width of the model's input embeddings: a soft prompt is [P, inputWidth].
    var inputWidth: Int { get }
    /// Width of `features`, what a linear probe reads.
    var featureWidth: Int { get }
    var classCount: Int { get }
    /// Rows of the input-embedding table; a prompt initialized from the vocabulary samples them.
    var vocabularySize: Int { get }

    /// Class logits [texts.count, classCount] of `texts` filled into the classifier's
    /// template, with `prompt` [P, inputWidth] in each sequence when given.
    func logits(_ texts: [String], prompt: Tensor?) throws(TensorError) -> Tensor
    /// Frozen features [texts.count, featureWidth] (no prompt, no gradient).
    func features(_ texts: [String]) throws(TensorError) -> Tensor
    /// Input embeddings [n, inputWidth] of `text`'s tokens (no special tokens): the start of
    /// a prompt initialized from words.
    func tokenEmbeddings(_ text: String) throws(TensorError) -> Tensor
    /// Input embeddings [ids.count, inputWidth] of vocabulary rows.
    func vocabularyEmbeddings(_ ids: [Int]) throws(TensorError) -> Tensor
    /// The model LoRA adapters attach to.
    var adaptableModel: any LowRankAdaptable { get }
    /// Runs the model's linear layers in int8 from now on (weights per output channel,
    /// activations per row), in place: only for a model this classifier owns alone.
    /// - Throws: `TensorError.invalidArgument` for a model with no int8 path.
    func quantizeToInt8() throws(TensorError)

    /// `text` filled into the template as the model reads it: each token's text and the
    /// input embeddings [1, T, inputWidth] (what `orrery explain` attributes a decision to).
    func inputTokens(_ text: String) throws(TensorError) -> (tokens: [String], embeddings: Tensor)
    /// The input that means "no text" for attributions, shaped like `embeddings` [1, T, inputWidth].
    func baseline(like embeddings: Tensor) throws(TensorError) -> Tensor
    /// Class logits [B, classCount] of input embeddings [B, T, inputWidth] of sequences with
    /// no padding (interpolations of one text's embeddings, say); differentiable in them.
    func logits(inputEmbeddings: Tensor) throws(TensorError) -> Tensor
}
