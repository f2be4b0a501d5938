import Tensor

/// The few-shot convolutional network (the "Conv-4" of the MAML and prototypical-network
/// papers) as a `FunctionalNetwork`: blocks of a 3×3 convolution (padding 1), batch
/// normalization, a ReLU and 2×2 max pooling over one-channel square images, then the maps
/// flattened into features.
///
/// Batch normalization is transductive, as in MAML's reference implementation: always the
/// statistics of the batch at hand (an episode's support set, or its query set), no running
/// averages, so adapted weights carry no hidden state. It is built from recorded operations
/// (per-channel layer norm over N·H·W, then γ and β), so MAML differentiates through it.
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
    public var bodyParameterCount: Int { 4 * channels.count }
    public var bodyParameterNames: [String] {
        channels.indices.flatMap { ["blocks.\($0).conv.weight", "blocks.\($0).conv.bias", "blocks.\($0).norm.weight", "blocks.\($0).norm.bias"] }
    }

    public var bodyParameterShapes: [[Int]] {
        zip([1] + channels.dropLast(), channels).flatMap { [[$1, $0, 3, 3], [$1], [$1], [$1]] }
    }

    /// Convolutions initialized as PyTorch's `nn.Conv2d` (uniform in ±1/√(in · 3 · 3)).
    public func initialBodyParameters(using generator: inout SplitMix64) -> [Tensor] {
        zip([1] + channels.dropLast(), channels).flatMap { (inputs, outputs) -> [Tensor] in
            let bound = 1 / Float(inputs * 9).squareRoot()
            return [
                Tensor.uniform([outputs, inputs, 3, 3], low: -bound, high: bound, using: &generator).requiringGrad(),
                Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad(),
                Tensor.full(1, [outputs]).requiringGrad(),
                Tensor.zeros([outputs]).requiringGrad(),
            ]
        }
    }

    public func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        let batch = input.shape[0]
        var x = try input.reshaped(to: [batch, 1, side, side])
        for block in channels.indices {
            let p = 4 * block
            x = try x.conv2d(weight: parameters[p], bias: parameters[p + 1], padding: 1)
            x = try Self.batchNorm(x, scale: parameters[p + 2], shift: parameters[p + 3]).relu().maxPool2d(kernel: 2)
        }
        return try x.reshaped(to: [batch, featureWidth])
    }

    /// Per-channel normalization of [N, C, H, W] over N, H and W with the batch's own
    /// statistics, then γ and β per channel.
    static func batchNorm(_ x: Tensor, scale: Tensor, shift: Tensor) throws(TensorError) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let perChannel = try x.permuted([1, 0, 2, 3]).reshaped(to: [c, n * h * w])
        let unit = Tensor.full(1, [n * h * w]), zero = Tensor.zeros([n * h * w])
        let normalized = try perChannel.layerNorm(weight: unit, bias: zero).reshaped(to: [c, n, h, w]).permuted([1, 0, 2, 3])
        return try normalized * scale.reshaped(to: [1, c, 1, 1]) + shift.reshaped(to: [1, c, 1, 1])
    }

    public func withHead(_ outputs: Int?) -> FunctionalCNN { FunctionalCNN(side: side, channels: channels, headOutputs: outputs) }
}
