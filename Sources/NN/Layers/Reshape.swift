import Tensor

/// Reshapes each example: [N, …] to [N] + `shape` (`[-1]` flattens; one -1 is inferred).
public final class Reshape: Layer {
    public let shape: [Int]

    public init(_ shape: [Int]) { self.shape = shape }

    public static func flatten() -> Reshape { Reshape([-1]) }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        try input.reshaped(to: [input.shape[0]] + shape)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [] }
}
