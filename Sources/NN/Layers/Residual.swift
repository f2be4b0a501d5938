import Tensor

/// `body(x) + shortcut(x)`: a residual connection (He et al. 2016). The shortcut is the
/// identity, or a projection (a 1×1 convolution, say) when the body changes the shape.
/// Parameters are named `body.*` and `shortcut.*`.
public final class Residual: Layer {
    public let body: any Layer
    public let shortcut: (any Layer)?

    public init(_ body: any Layer, shortcut: (any Layer)? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        let skip = try shortcut.map { (layer) throws(TensorError) in try layer(input) } ?? input
        return try body(input) + skip
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        Self.prefixed("body", body.namedParameters()) + (shortcut.map { Self.prefixed("shortcut", $0.namedParameters()) } ?? [])
    }

    public func train(_ training: Bool) {
        body.train(training)
        shortcut?.train(training)
    }
}
