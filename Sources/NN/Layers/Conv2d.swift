import Tensor

/// A 2-D convolution layer over NCHW images; weight [out, in, k, k] and bias [out], named
/// and initialized as PyTorch's `nn.Conv2d` (uniform in ±1/√(in·k·k)).
public final class Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true, using generator: inout SplitMix64) {
        let bound = 1 / Float(inputs * kernel * kernel).squareRoot()
        weight = Tensor.uniform([outputs, inputs, kernel, kernel], low: -bound, high: bound, using: &generator).requiringGrad()
        self.bias = bias ? Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad() : nil
        self.stride = stride
        self.padding = padding
    }

    /// A convolution with the given weight [out, in, k, k] and bias [out] (a pruned one, say).
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        self.weight = weight.requiresGrad ? weight : weight.requiringGrad()
        self.bias = bias.map { $0.requiresGrad ? $0 : $0.requiringGrad() }
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        try input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
