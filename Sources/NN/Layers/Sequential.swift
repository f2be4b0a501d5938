import Tensor

/// Layers applied in order; parameters are named by position (`0.weight`, `2.bias`), as in
/// PyTorch's `nn.Sequential`.
public final class Sequential: Layer, Int8Quantizable {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        var x = input
        for layer in layers { x = try layer(x) }
        return x
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { Self.prefixed(String($0.offset), $0.element.namedParameters()) }
    }

    public func train(_ training: Bool) { layers.forEach { $0.train(training) } }

    /// Quantizes the layers that can be (linear layers; activations stay float).
    public func quantizeToInt8() throws(TensorError) { try Self.quantizing(layers.compactMap { $0 as? any Int8Quantizable }) }

    public func dropInt8() { layers.compactMap { $0 as? any Int8Quantizable }.forEach { $0.dropInt8() } }
}

/// A multilayer perceptron: Linear layers with an activation between them (none after the last).
public enum MLP {
    /// - Parameter sizes: layer widths, input first: `[784, 256, 256, 10]`.
    public static func make(_ sizes: [Int], activation: Activation.Kind = .relu, using generator: inout SplitMix64) -> Sequential {
        precondition(sizes.count >= 2, "an MLP needs an input and an output size")
        var layers: [any Layer] = []
        for index in 0..<(sizes.count - 1) {
            layers.append(Linear(sizes[index], sizes[index + 1], using: &generator))
            if index < sizes.count - 2 { layers.append(Activation(activation)) }
        }
        return Sequential(layers)
    }
}
