import Tensor

/// Inverted dropout while training, the identity in evaluation; seeded, so a training run
/// repeats exactly.
public final class Dropout: Layer {
    public let probability: Float
    private var generator: SplitMix64
    private var training = true

    public init(_ probability: Float, seed: UInt64) {
        self.probability = probability
        generator = SplitMix64(seed: seed)
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        guard training, probability > 0 else { return input }
        return try input.dropout(probability, using: &generator)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [] }

    public func train(_ training: Bool) { self.training = training }

    /// Restarts the mask sequence: a loop that reseeds at each epoch from (seed, epoch)
    /// draws the same masks whether it ran from the start or resumed from a checkpoint.
    public func reseed(_ seed: UInt64) { generator = SplitMix64(seed: seed) }
}
