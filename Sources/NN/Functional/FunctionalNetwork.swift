import Tensor

/// A network written as a function of its parameters, for inner loops that run the same
/// network on adapted copies of its weights ("fast weights": MAML, Reptile, ANIL) or on
/// several weight sets at once.
///
/// Parameters are a flat list: the body's, then (when there is a head) the head's linear
/// weight [outputs, features] and bias, as `Linear` stores them, so a parameter list saves
/// and loads by name. The body ends in features (a prototypical network's embedding); the
/// head maps them to class scores.
public protocol FunctionalNetwork: Sendable {
    /// Values per input example.
    var inputWidth: Int { get }
    /// Values the body produces per example.
    var featureWidth: Int { get }
    /// Outputs of the head, or nil without one.
    var headOutputs: Int? { get }
    var bodyParameterCount: Int { get }
    /// Names of the body's parameters, in order.
    var bodyParameterNames: [String] { get }
    /// Shapes of the body's parameters, in order.
    var bodyParameterShapes: [[Int]] { get }
    /// Fresh body parameters, as gradient-tracking leaves.
    func initialBodyParameters(using generator: inout SplitMix64) -> [Tensor]
    /// The body on `input` [batch, inputWidth]; `parameters` may hold the head's after its own.
    func body(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor
    /// The same body with a head of `outputs` (nil: none).
    func withHead(_ outputs: Int?) -> Self
}

extension FunctionalNetwork {
    public var hasHead: Bool { headOutputs != nil }

    /// Every weight and bias, counted from the shapes (nothing allocated): what a task's
    /// limits are checked against before anything is built.
    public var parameterCount: Int {
        let body = bodyParameterShapes.reduce(0) { $0 + $1.reduce(1, *) }
        return body + (headOutputs.map { $0 * featureWidth + $0 } ?? 0)
    }

    public var parameterNames: [String] {
        bodyParameterNames + (hasHead ? ["head.weight", "head.bias"] : [])
    }

    /// Fresh parameters: the body's, then the head's, initialized as PyTorch's `nn.Linear`
    /// (uniform in ±1/√features).
    public func initialParameters(using generator: inout SplitMix64) -> [Tensor] {
        var parameters = initialBodyParameters(using: &generator)
        if let outputs = headOutputs {
            let bound = 1 / Float(featureWidth).squareRoot()
            parameters.append(Tensor.uniform([outputs, featureWidth], low: -bound, high: bound, using: &generator).requiringGrad())
            parameters.append(Tensor.uniform([outputs], low: -bound, high: bound, using: &generator).requiringGrad())
        }
        return parameters
    }

    /// The whole network on `input` [batch, inputWidth].
    public func callAsFunction(_ input: Tensor, _ parameters: [Tensor]) throws(TensorError) -> Tensor {
        let features = try body(input, parameters)
        return hasHead ? try head(features, parameters[bodyParameterCount...]) : features
    }

    /// The head alone, on body features; `parameters` are its weight and bias.
    public func head(_ features: Tensor, _ parameters: ArraySlice<Tensor>) throws(TensorError) -> Tensor {
        let start = parameters.startIndex
        return try features.linear(weight: parameters[start], bias: parameters[start + 1])
    }
}
