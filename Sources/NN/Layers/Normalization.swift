import Tensor

/// Layer normalization over the last axis with learned scale and shift (PyTorch `nn.LayerNorm`).
public final class LayerNorm: Layer {
    public let weight: Tensor
    public let bias: Tensor
    public let epsilon: Float

    public init(_ width: Int, epsilon: Float = 1e-5) {
        weight = Tensor.full(1, [width]).requiringGrad()
        bias = Tensor.zeros([width]).requiringGrad()
        self.epsilon = epsilon
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        try input.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// RMS normalization over the last axis with a learned scale (Llama's `RMSNorm`).
public final class RMSNorm: Layer {
    public let weight: Tensor
    public let epsilon: Float

    public init(_ width: Int, epsilon: Float = 1e-6) {
        weight = Tensor.full(1, [width]).requiringGrad()
        self.epsilon = epsilon
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor { try input.rmsNorm(weight: weight, epsilon: epsilon) }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("weight", weight)] }
}
