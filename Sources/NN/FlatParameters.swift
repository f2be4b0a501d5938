import Tensor

/// A module's parameters (or their gradients) laid end to end in one float buffer, so that
/// data-parallel training all-reduces a few large buckets instead of hundreds of small
/// tensors.
///
/// The layout is fixed by the module's parameter order: parameter i occupies
/// `ranges[i]`. Gradients are gathered by copy (a memcpy per parameter, small next to the
/// network time of an all-reduce), as PyTorch's DDP copies into its buckets; scattering
/// gives every parameter a fresh gradient tensor, so no two parameters ever share one.
public struct FlatParameters {
    public let parameters: [Tensor]
    public let names: [String]
    /// Where each parameter lives in the flat buffer.
    public let ranges: [Range<Int>]
    public let count: Int

    public init(_ module: some Module) { self.init(named: module.namedParameters()) }

    /// Parameters that belong to no module (a functional network's list), by name.
    public init(named: [(name: String, tensor: Tensor)]) {
        parameters = named.map(\.tensor)
        names = named.map(\.name)
        var offset = 0
        ranges = parameters.map { parameter in
            defer { offset += parameter.count }
            return offset..<(offset + parameter.count)
        }
        count = offset
    }

    /// Every parameter's gradient in one buffer (zeros where a parameter has none).
    public func gatherGradients() -> [Float] {
        var buffer = [Float](repeating: 0, count: count)
        buffer.withUnsafeMutableBufferPointer { flat in
            for (parameter, range) in zip(parameters, ranges) {
                parameter.grad?.storage.withUnsafeBufferPointer { source in
                    _ = UnsafeMutableBufferPointer(rebasing: flat[range]).update(fromContentsOf: source)
                }
            }
        }
        return buffer
    }

    /// Sets every parameter's gradient from `buffer` (as laid out by `gatherGradients`).
    public func scatterGradients(_ buffer: [Float]) throws(TensorError) {
        guard buffer.count == count else { throw TensorError(.countMismatch(expected: count, got: buffer.count, shape: [count])) }
        for (parameter, range) in zip(parameters, ranges) {
            try parameter.setGrad(Tensor(shape: parameter.shape, storage: Storage(buffer[range])))
        }
    }

    /// Every parameter's values in one buffer, e.g. for broadcasting rank 0's weights.
    public func gatherValues() -> [Float] {
        var buffer: [Float] = []
        buffer.reserveCapacity(count)
        for parameter in parameters { parameter.storage.withUnsafeBufferPointer { buffer.append(contentsOf: $0) } }
        return buffer
    }

    /// Overwrites every parameter's values in place from `buffer`.
    public func scatterValues(_ buffer: [Float]) throws(TensorError) {
        guard buffer.count == count else { throw TensorError(.countMismatch(expected: count, got: buffer.count, shape: [count])) }
        for (parameter, range) in zip(parameters, ranges) {
            parameter.storage.withUnsafeMutableBufferPointer { target in
                buffer[range].withUnsafeBufferPointer { _ = target.update(fromContentsOf: $0) }
            }
        }
    }

    /// Contiguous ranges of about `maxElements` each, ending on parameter boundaries where
    /// possible: the buckets an all-reduce sends one at a time.
    public func buckets(maxElements: Int) -> [Range<Int>] {
        precondition(maxElements > 0)
        var buckets: [Range<Int>] = []
        var start = 0
        for range in ranges where range.upperBound - start >= maxElements {
            buckets.append(start..<range.upperBound)
            start = range.upperBound
        }
        if start < count { buckets.append(start..<count) }
        return buckets
    }
}
