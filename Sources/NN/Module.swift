import Tensor

/// Something with trainable parameters, each under a stable name.
///
/// Names are dotted paths (`layers.0.weight`), the keys safetensors files and PyTorch state
/// dicts use, so weights move between Orrery and PyTorch by name. Modules list their
/// parameters explicitly rather than by reflection: a few lines per layer, nothing hidden.
public protocol Module: AnyObject {
    /// Every trainable parameter, by name, in a fixed order.
    func namedParameters() -> [(name: String, tensor: Tensor)]
    /// Training mode switches layers such as dropout; evaluation turns them off.
    func train(_ training: Bool)
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor
}

extension Module {
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Freezes (or unfreezes) every parameter: a frozen module still passes gradients to
    /// its inputs but computes none for its own weights.
    public func setFrozen(_ frozen: Bool) { parameters.forEach { $0.setFrozen(frozen) } }

    /// Clears every parameter's accumulated gradient.
    public func zeroGrad() { parameters.forEach { $0.zeroGrad() } }

    public func train(_ training: Bool) {}

    /// `children` with each name prefixed by `prefix.`.
    public static func prefixed(_ prefix: String, _ children: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        children.map { ("\(prefix).\($0.name)", $0.tensor) }
    }
}
