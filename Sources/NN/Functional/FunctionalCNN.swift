import Tensor

/// The few-shot convolutional network (the "Conv-4" of the MAML and prototypical-network
/// papers, without batch normalization) as a `FunctionalNetwork`: blocks of a 3×3
/// convolution (padding 1), a ReLU and 2×2 max pooling over one-channel square images, then
/// the maps flattened into features.
public struct FunctionalCNN: FunctionalNetwork {
    public let side: Int
    public let channels: [Int]
    public let headOutputs: Int?

    public init(side: Int, channels: [Int], headOutputs: Int?) {
        precondition(!channels.isEmpty && side >> channels.count >= 1, "\(channels.count) pooling blocks do not fit \(side)×\(side) images")
        self.side = side
        self.channels = channels
        self.headOutputs = headOutputs
    }

    /// The maps' side after every pooling block.
    public var finalSide: Int { side >> channels.count }
    public var inputWidth: Int { side * side }
    public var featureWidth: Int { channels[channels.count - 1] * finalSide * finalSide }
    public var bodyParameterCount: Int { 2 * channels.count }
    public var bodyParameterNames: [String] {
        channels.indices.flatMap { ["blocks.\($0).conv.weight", "blocks.\($0).conv.bias"] }
    }

    public var bodyParameterShapes: [[Int]] {
        zip([1] + channels.dropLast(), channels).flatMap { [[$1, $0, 3, 3], [$1]] }
    }

    /// Convolutions initialized as PyTorch's `nn.Conv2d` (uniform in ±1/√(in · 3 · 3)).
    public func initialBodyParameters(using generator: inout SplitMix64) -> [Tensor] {
        zip([1] + channels.dropLast(), channels).flatMap { (inputs, outputs) -> [Tensor] in
            let bound = 1 / Float(inputs * 9).squareRoot()
            return [
                Tensor.uniform([outputs, inputs, 3, 3], low: -bound, high: bound, using: &generator).requiringGrad(),
                Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad(),
            ]
        }
    }

    public func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        let batch = input.shape[0]
        var x = try input.reshaped(to: [batch, 1, side, side])
        for block in channels.indices {
            x = try x.conv2d(weight: parameters[2 * block], bias: parameters[2 * block + 1], padding: 1).relu().maxPool2d(kernel: 2)
        }
        return try x.reshaped(to: [batch, featureWidth])
    }

    public func withHead(_ outputs: Int?) -> FunctionalCNN { FunctionalCNN(side: side, channels: channels, headOutputs: outputs) }
}
