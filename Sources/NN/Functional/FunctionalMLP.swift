import Tensor

/// A multilayer perceptron written as a function of its parameters, for inner loops that
/// run the same network on adapted copies of its weights ("fast weights": MAML, Reptile,
/// ANIL) or on several weight sets at once.
///
/// Parameters are a flat list `[W₁, b₁, …, Wₙ, bₙ]`, each W stored [out, in] as `Linear`
/// stores it, so a parameter list saves and loads by the same names (`layers.i.weight`).
/// A ReLU follows every layer of the body; the head (when there is one) is the last layer,
/// without an activation.
public struct FunctionalMLP: Sendable {
    /// Layer widths from input to output, e.g. [196, 128, 64, 5].
    public let widths: [Int]
    /// Whether the last layer is a head (no ReLU after it). Without one the whole network
    /// is a body, and its output is an embedding (prototypical networks).
    public let hasHead: Bool

    public init(widths: [Int], hasHead: Bool) {
        precondition(widths.count >= 2, "an MLP needs an input and an output width")
        self.widths = widths
        self.hasHead = hasHead
    }

    public var layerCount: Int { widths.count - 1 }
    /// Parameters of the body: all of them without a head, all but the last two with one.
    public var bodyParameterCount: Int { 2 * (hasHead ? layerCount - 1 : layerCount) }

    /// Fresh parameters, initialized as PyTorch's `nn.Linear` (uniform in ±1/√in), as
    /// gradient-tracking leaves.
    public func initialParameters(using generator: inout SplitMix64) -> [Tensor] {
        (0..<layerCount).flatMap { layer -> [Tensor] in
            let (inputs, outputs) = (widths[layer], widths[layer + 1])
            let bound = 1 / Float(inputs).squareRoot()
            return [
                Tensor.uniform([outputs, inputs], low: -bound, high: bound, using: &generator).requiringGrad(),
                Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad(),
            ]
        }
    }

    /// The parameters' names, in order: `layers.i.weight`, `layers.i.bias`.
    public var parameterNames: [String] {
        (0..<layerCount).flatMap { ["layers.\($0).weight", "layers.\($0).bias"] }
    }

    /// The whole network on `input` ([batch, widths[0]]).
    public func callAsFunction(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        let features = try body(input, parameters)
        return hasHead ? try head(features, parameters[bodyParameterCount...]) : features
    }

    /// The body: every layer but the head, each followed by a ReLU.
    public func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        var x = input
        for layer in 0..<(bodyParameterCount / 2) {
            x = try x.linear(weight: parameters[2 * layer], bias: parameters[2 * layer + 1]).relu()
        }
        return x
    }

    /// The head alone, on body features; `parameters` are its weight and bias.
    public func head(_ features: Tensor, _ parameters: ArraySlice<Tensor>) throws(TensorError) -> Tensor {
        let start = parameters.startIndex
        return try features.linear(weight: parameters[start], bias: parameters[start + 1])
    }
}
