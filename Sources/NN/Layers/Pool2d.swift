import Tensor

/// Max or average pooling over square windows.
public final class Pool2d: Layer {
    public enum Kind: Sendable { case max, average }

    public let kind: Kind
    public let kernel: Int
    public let stride: Int

    public init(_ kind: Kind, kernel: Int, stride: Int? = nil) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        switch kind {
        case .max: try input.maxPool2d(kernel: kernel, stride: stride)
        case .average: try input.avgPool2d(kernel: kernel, stride: stride)
        }
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [] }
}
