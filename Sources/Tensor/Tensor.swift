import Foundation

/// An n-dimensional array of float32 values on the CPU, row-major and contiguous.
///
/// Tensors are values: an operation returns a new tensor and never changes its inputs.
/// A tensor that requires a gradient carries a node on the autodiff tape; operations on it
/// record how to send gradients back, and `backward()` walks them in reverse. Parameters
/// are leaf tensors whose storage optimizers update in place.
public struct Tensor {
    public let shape: Shape
    public let storage: Storage
    let node: TapeNode?

    public init(shape: Shape, storage: Storage) {
        precondition(storage.count == shape.count, "storage of \(storage.count) for shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    init(shape: Shape, storage: Storage, node: TapeNode?) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor of `values` in row-major order.
    public init(_ values: [Float], shape: Shape) throws(TensorError) {
        guard values.count == shape.count else {
            throw TensorError(.countMismatch(expected: shape.count, got: values.count, shape: shape))
        }
        self.init(shape: shape, storage: Storage(values))
    }

    /// A rank-0 tensor.
    public init(scalar: Float) { self.init(shape: Shape([]), storage: Storage([scalar])) }

    public static func zeros(_ shape: Shape) -> Tensor { Tensor(shape: shape, storage: Storage(count: shape.count)) }

    public static func full(_ value: Float, _ shape: Shape) -> Tensor {
        Tensor(shape: shape, storage: Storage(repeatElement(value, count: shape.count)))
    }

    public var count: Int { shape.count }
    public var rank: Int { shape.rank }

    /// The values, copied out in row-major order.
    public var scalars: [Float] { storage.withUnsafeBufferPointer { Array($0) } }

    /// The only value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor of shape \(shape)")
        return storage.withUnsafeBufferPointer { $0[0] }
    }

    // MARK: Gradients

    /// Whether operations on this tensor are recorded for `backward()`.
    public var requiresGrad: Bool { node.map { !$0.frozen } ?? false }

    /// Stops (or resumes) gradients into this leaf, in place for every copy of it (PyTorch's
    /// `requires_grad_(False)`): the weights of a frozen pretrained model.
    public func setFrozen(_ frozen: Bool) { node?.frozen = frozen }

    /// This tensor as a leaf of the tape (a parameter): gradients accumulate in `grad`.
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: TapeNode(leafOf: shape))
    }

    /// The same values, cut off from the tape.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// The gradient accumulated in this leaf by `backward()` calls since `zeroGrad()`.
    public var grad: Tensor? { node?.grad }

    /// Forgets this leaf's accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// Replaces this leaf's gradient (e.g. with the average over data-parallel ranks).
    public func setGrad(_ gradient: Tensor?) throws(TensorError) {
        guard let node else { throw TensorError(.noGradient("setGrad on a tensor that does not require a gradient")) }
        if let gradient, gradient.shape != shape { throw TensorError(.shapeMismatch(operation: "setGrad", gradient.shape, shape)) }
        node.grad = gradient
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
    }
}
