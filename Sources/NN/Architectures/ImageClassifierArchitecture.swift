import Tensor

/// An image classifier described by its choices, the unit neural architecture search
/// searches over and `train` builds: an MLP (hidden widths) or a CNN (blocks of a k×k
/// convolution, the activation, an optional second convolution with a residual connection,
/// and 2×2 pooling; then an optional hidden layer and the classifier), with dropout before
/// each classifier layer.
///
/// `parameterCount(imageShape:classes:)` is computed from the description alone, so a
/// description that arrives over the network is checked before any memory is allocated.
public struct ImageClassifierArchitecture: Hashable, Sendable {
    public enum Family: String, Sendable, CaseIterable { case mlp, cnn }
    public enum Pooling: String, Sendable, CaseIterable { case max, average }

    /// One convolution block: its output channels and its square kernel's side (odd).
    public struct Block: Hashable, Sendable {
        public let channels: Int
        public let kernel: Int
        public init(channels: Int, kernel: Int) {
            self.channels = channels
            self.kernel = kernel
        }
    }

    public var family: Family
    /// MLP: the hidden widths. CNN: the widths of the head's hidden layers (often none or one).
    public var hidden: [Int]
    /// CNN only.
    public var blocks: [Block]
    public var pooling: Pooling
    /// CNN: each block adds a second convolution and a residual connection around both
    /// (with a 1×1 projection when the channel count changes).
    public var residual: Bool
    public var activation: Activation.Kind
    /// Dropout probability before every fully connected layer after the first (0: none).
    public var dropout: Double

    public init(
        family: Family, hidden: [Int], blocks: [Block] = [], pooling: Pooling = .max, residual: Bool = false,
        activation: Activation.Kind = .relu, dropout: Double = 0
    ) {
        self.family = family
        self.hidden = hidden
        self.blocks = blocks
        self.pooling = pooling
        self.residual = residual
        self.activation = activation
        self.dropout = dropout
    }

    /// The model, seeded (the same seed gives the same weights), and its dropout layers
    /// (for `Dropout.reseed`).
    public func make(imageShape: [Int], classes: Int, seed: UInt64) -> (model: Sequential, dropouts: [Dropout]) {
        var generator = SplitMix64(seed: seed)
        // Images arrive flattened, one row each: an MLP takes them as they are.
        var layers: [any Layer] = []
        var dropouts: [Dropout] = []
        var features = imageShape.reduce(1, *)
        if family == .cnn {
            layers.append(Reshape(imageShape))
            var (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
            for block in blocks {
                layers += convolutionBlock(from: channels, block, using: &generator)
                layers.append(Pool2d(pooling == .max ? .max : .average, kernel: 2))
                (channels, height, width) = (block.channels, height / 2, width / 2)
            }
            layers.append(Reshape.flatten())
            features = channels * height * width
        }
        let sizes = [features] + hidden + [classes]
        for index in 0..<(sizes.count - 1) {
            if index > 0 && dropout > 0 {
                let layer = Dropout(Float(dropout), seed: seed &+ UInt64(index))
                dropouts.append(layer)
                layers.append(layer)
            }
            layers.append(Linear(sizes[index], sizes[index + 1], using: &generator))
            if index < sizes.count - 2 { layers.append(Activation(activation)) }
        }
        return (Sequential(layers), dropouts)
    }

    private func convolutionBlock(from inputs: Int, _ block: Block, using generator: inout SplitMix64) -> [any Layer] {
        let padding = block.kernel / 2
        let first = Conv2d(inputs, block.channels, kernel: block.kernel, padding: padding, using: &generator)
        guard residual else { return [first, Activation(activation)] }
        let body = Sequential([first, Activation(activation), Conv2d(block.channels, block.channels, kernel: block.kernel, padding: padding, using: &generator)])
        let shortcut = inputs == block.channels ? nil : Conv2d(inputs, block.channels, kernel: 1, using: &generator)
        return [Residual(body, shortcut: shortcut), Activation(activation)]
    }

    /// The most values one layer's output holds for one image: the widest convolution
    /// output (at its block's resolution, before pooling) or fully connected layer.
    public func largestFeatureMap(imageShape: [Int]) -> Int {
        var largest = hidden.max() ?? 0
        if family == .cnn {
            var (height, width) = (imageShape[1], imageShape[2])
            for block in blocks {
                largest = max(largest, block.channels * height * width)
                (height, width) = (height / 2, width / 2)
            }
        }
        return largest
    }

    /// What is wrong with a description for images of `imageShape`, in words.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The number of trainable values, without building the model.
    /// - Throws: `Problem` when the blocks pool the image to nothing or the count passes
    ///   `limit`.
    public func parameterCount(imageShape: [Int], classes: Int, limit: Int = Int.max) throws(Problem) -> Int {
        var total = 0
        func add(_ count: Int) throws(Problem) {
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow, sum <= limit else { throw Problem(description: "the model would have more than \(limit) parameters") }
            total = sum
        }
        func product(_ a: Int, _ b: Int) throws(Problem) -> Int {
            let (value, overflow) = a.multipliedReportingOverflow(by: b)
            guard !overflow else { throw Problem(description: "the model would have more than \(limit) parameters") }
            return value
        }
        var features = imageShape.reduce(1, *)
        if family == .cnn {
            var (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
            for (index, block) in blocks.enumerated() {
                guard height >= 2, width >= 2 else {
                    throw Problem(description: "block \(index + 1): \(imageShape[1])×\(imageShape[2]) images are pooled to nothing after \(index) block(s)")
                }
                let square = block.kernel * block.kernel
                try add(try product(try product(channels, block.channels), square) + block.channels)
                if residual {
                    try add(try product(try product(block.channels, block.channels), square) + block.channels)
                    if channels != block.channels { try add(try product(channels, block.channels) + block.channels) }
                }
                (channels, height, width) = (block.channels, height / 2, width / 2)
            }
            features = channels * height * width
        }
        let sizes = [features] + hidden + [classes]
        for index in 0..<(sizes.count - 1) { try add(try product(sizes[index], sizes[index + 1]) + sizes[index + 1]) }
        return total
    }
}
