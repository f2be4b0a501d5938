import NN
import Tensor

/// P-tuning's reparameterized prompt (Liu et al. 2021): the prompt is not trained
/// directly but produced by a small network from trainable inputs E [P, width],
/// prompt = E + W₂·GELU(W₁·E + b₁) + b₂. The network couples the prompt's vectors, which
/// steadies training; W₂ and b₂ start at zero, so the prompt starts exactly at its
/// initialization. (P-tuning's original encoder is an LSTM then an MLP; the residual MLP
/// is the form later work uses.)
public final class PromptReparameterization: Module {
    public let inputs: Tensor
    public let expand: Linear
    public let contract: Linear

    public init(initial: Tensor, hidden: Int, using generator: inout SplitMix64) {
        precondition(initial.rank == 2, "a prompt is [length, width]")
        let width = initial.shape[1]
        inputs = Tensor(shape: initial.shape, storage: Storage(initial.scalars)).requiringGrad()
        expand = Linear(width, hidden, using: &generator)
        contract = Linear(weight: Tensor.zeros([width, hidden]), bias: Tensor.zeros([width]))
    }

    /// The prompt [P, width].
    public func prompt() throws(TensorError) -> Tensor {
        try inputs + contract(expand(inputs).gelu())
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        [("inputs", inputs)] + Self.prefixed("expand", expand.namedParameters()) + Self.prefixed("contract", contract.namedParameters())
    }
}
