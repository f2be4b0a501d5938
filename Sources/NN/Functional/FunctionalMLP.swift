import Tensor

/// A multilayer perceptron as a `FunctionalNetwork`: every body layer is linear and
/// followed by a ReLU; the head (when there is one) is linear, without an activation.
public struct FunctionalMLP: FunctionalNetwork {
    /// Body widths from input to features, e.g. [196, 256, 128, 64].
    public let bodyWidths: [Int]
    public let headOutputs: Int?

    public init(bodyWidths: [Int], headOutputs: Int?) {
        precondition(bodyWidths.count >= 2 || (bodyWidths.count == 1 && headOutputs != nil), "an MLP needs a layer")
        self.bodyWidths = bodyWidths
        self.headOutputs = headOutputs
    }

    public var inputWidth: Int { bodyWidths[0] }
    public var featureWidth: Int { bodyWidths[bodyWidths.count - 1] }
    public var bodyParameterCount: Int { 2 * (bodyWidths.count - 1) }
    public var bodyParameterNames: [String] {
        (0..<(bodyWidths.count - 1)).flatMap { ["layers.\($0).weight", "layers.\($0).bias"] }
    }

    public var bodyParameterShapes: [[Int]] {
        (0..<(bodyWidths.count - 1)).flatMap { [[bodyWidths[$0 + 1], bodyWidths[$0]], [bodyWidths[$0 + 1]]] }
    }

    public func initialBodyParameters(using generator: inout SplitMix64) -> [Tensor] {
        (0..<(bodyWidths.count - 1)).flatMap { layer -> [Tensor] in
            let (inputs, outputs) = (bodyWidths[layer], bodyWidths[layer + 1])
            let bound = 1 / Float(inputs).squareRoot()
            return [
                Tensor.uniform([outputs, inputs], low: -bound, high: bound, using: &generator).requiringGrad(),
                Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad(),
            ]
        }
    }

    public func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        var x = input
        for layer in 0..<(bodyWidths.count - 1) {
            x = try x.linear(weight: parameters[2 * layer], bias: parameters[2 * layer + 1]).relu()
        }
        return x
    }

    public func withHead(_ outputs: Int?) -> FunctionalMLP { FunctionalMLP(bodyWidths: bodyWidths, headOutputs: outputs) }
}
