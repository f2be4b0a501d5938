import Foundation
import Tensor

/// y = x · Wᵀ + b, with W stored [out, in] as PyTorch stores it (so weights load by name).
///
/// Initialized as PyTorch's `nn.Linear`: W and b uniform in ±1/√in (Kaiming uniform with
/// a = √5), from the given seeded generator.
public final class Linear: Layer, Int8Quantizable {
    public let weight: Tensor
    public let bias: Tensor?
    /// The weight quantized to int8, once `quantizeToInt8()` ran: products use it.
    public private(set) var int8Weight: Int8Matrix?

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, using generator: inout SplitMix64) {
        let bound = 1 / Float(max(inputs, 1)).squareRoot()
        weight = Tensor.uniform([outputs, inputs], low: -bound, high: bound, using: &generator).requiringGrad()
        self.bias = bias ? Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad() : nil
    }

    /// A layer over given weights (e.g. loaded from a file); `weight` is [out, in].
    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight.requiresGrad ? weight : weight.requiringGrad()
        self.bias = bias.map { $0.requiresGrad ? $0 : $0.requiringGrad() }
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        if let int8Weight { return try input.linear(int8: int8Weight, bias: bias) }
        return try input.linear(weight: weight, bias: bias)
    }

    public func quantizeToInt8() throws(TensorError) { int8Weight = try Int8Matrix(quantizing: weight) }

    public func dropInt8() { int8Weight = nil }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
