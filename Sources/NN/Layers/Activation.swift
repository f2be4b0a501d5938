import Tensor

/// A parameter-free elementwise function as a layer.
public final class Activation: Layer {
    public enum Kind: String, Sendable, CaseIterable {
        case relu, gelu, geluTanh = "gelu_tanh", tanh, sigmoid
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        switch kind {
        case .relu: input.relu()
        case .gelu: input.gelu(approximate: false)
        case .geluTanh: input.gelu(approximate: true)
        case .tanh: input.tanh()
        case .sigmoid: input.sigmoid()
        }
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [] }
}
