import NN
import Tensor

/// P trainable vectors in a model's input-embedding space (prompt tuning, Lester et al.
/// 2021): put in every sequence at a fixed place, so the frozen model reads them as if
/// they were the embeddings of tokens no vocabulary has. Only these vectors train.
public final class SoftPrompt: Module {
    /// [P, width].
    public let vectors: Tensor

    /// A prompt starting at `initial` [P, width] (copied).
    public init(initial: Tensor) {
        precondition(initial.rank == 2, "a soft prompt is [length, width]")
        vectors = Tensor(shape: initial.shape, storage: Storage(initial.scalars)).requiringGrad()
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("prompt", vectors)] }

    /// `embeddings` [B, T, width] with `prompt` [P, width] put in every sequence before
    /// position `position` → [B, T + P, width]; gradients reach `prompt`, summed over the
    /// batch. `position` 1 keeps BERT's [CLS] first; 0 puts the prompt before everything.
    public static func insert(_ prompt: Tensor, into embeddings: Tensor, at position: Int) throws(TensorError) -> Tensor {
        let (batch, length, width) = (embeddings.shape[0], embeddings.shape[1], embeddings.shape[2])
        guard prompt.rank == 2, prompt.shape[1] == width else {
            throw TensorError(.shapeMismatch(operation: "insert a soft prompt", prompt.shape, [0, width]))
        }
        guard (0...length).contains(position) else {
            throw TensorError(.invalidArgument("a soft prompt cannot go at position \(position) of \(length)"))
        }
        let repeated = try Tensor.zeros([batch, prompt.shape[0], width]) + prompt.reshaped([1, prompt.shape[0], width])
        var pieces = [Tensor]()
        if position > 0 { pieces.append(try embeddings.sliced(axis: 1, 0..<position)) }
        pieces.append(repeated)
        if position < length { pieces.append(try embeddings.sliced(axis: 1, position..<length)) }
        return try Tensor.concatenate(pieces, axis: 1)
    }
}
