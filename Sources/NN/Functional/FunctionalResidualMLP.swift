import Tensor

/// An MLP that adds to its input instead of replacing it: features = x + W·h(x) + b, where
/// h is a ReLU MLP of `hiddenWidths` and the last projection (back to the input's width)
/// starts at zero. At initialization the network is the identity, so meta-learning on top
/// of a pretrained embedding (MiniLM's) starts from that embedding's own geometry and can
/// only move away from it as far as the meta-gradient asks — where a fresh MLP starts by
/// throwing that geometry away.
///
/// W's zero start leaves h's layers without a gradient on the first step (their path runs
/// through W); they move once W does, as LoRA's zero-initialized factor lets its partner.
public struct FunctionalResidualMLP: FunctionalNetwork {
    public let inputWidth: Int
    public let hiddenWidths: [Int]
    public let headOutputs: Int?

    public init(inputWidth: Int, hiddenWidths: [Int], headOutputs: Int?) {
        precondition(!hiddenWidths.isEmpty, "a residual MLP needs a hidden layer")
        self.inputWidth = inputWidth
        self.hiddenWidths = hiddenWidths
        self.headOutputs = headOutputs
    }

    /// The ReLU layers before the projection back to the input's width.
    private var hidden: FunctionalMLP { FunctionalMLP(bodyWidths: [inputWidth] + hiddenWidths, headOutputs: nil) }

    public var featureWidth: Int { inputWidth }
    public var bodyParameterCount: Int { hidden.bodyParameterCount + 2 }
    public var bodyParameterNames: [String] { hidden.bodyParameterNames + ["residual.weight", "residual.bias"] }
    public var bodyParameterShapes: [[Int]] { hidden.bodyParameterShapes + [[inputWidth, hiddenWidths[hiddenWidths.count - 1]], [inputWidth]] }

    public func initialBodyParameters(using generator: inout SplitMix64) -> [Tensor] {
        let projection = bodyParameterShapes.suffix(2).map { Tensor.zeros(Shape($0)).requiringGrad() }
        return hidden.initialBodyParameters(using: &generator) + projection
    }

    public func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        let count = hidden.bodyParameterCount
        let features = try hidden.body(input, parameters)
        return try input + features.linear(weight: parameters[count], bias: parameters[count + 1])
    }

    public func withHead(_ outputs: Int?) -> FunctionalResidualMLP {
        FunctionalResidualMLP(inputWidth: inputWidth, hiddenWidths: hiddenWidths, headOutputs: outputs)
    }
}
