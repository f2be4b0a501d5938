import Tensor

/// A small convolutional classifier: for each width in `channels`, a 3×3 convolution
/// (padding 1), ReLU and 2×2 max pooling; then the flattened features through an MLP.
/// Parameter names follow the positions in the Sequential, as in PyTorch.
public enum CNN {
    /// - Parameters:
    ///   - imageShape: [channels, height, width] of one input image.
    ///   - channels: convolution widths, e.g. [16, 32].
    ///   - hidden: fully connected widths after the convolutions, e.g. [128].
    public static func make(imageShape: [Int], channels: [Int], hidden: [Int], classes: Int, using generator: inout SplitMix64) -> Sequential {
        var layers: [any Layer] = [Reshape(imageShape)]
        var (inputs, height, width) = (imageShape[0], imageShape[1], imageShape[2])
        for width_ in channels {
            layers.append(Conv2d(inputs, width_, kernel: 3, padding: 1, using: &generator))
            layers.append(Activation(.relu))
            layers.append(Pool2d(.max, kernel: 2))
            (inputs, height, width) = (width_, height / 2, width / 2)
        }
        layers.append(Reshape.flatten())
        let sizes = [inputs * height * width] + hidden + [classes]
        for index in 0..<(sizes.count - 1) {
            layers.append(Linear(sizes[index], sizes[index + 1], using: &generator))
            if index < sizes.count - 2 { layers.append(Activation(.relu)) }
        }
        return Sequential(layers)
    }
}
