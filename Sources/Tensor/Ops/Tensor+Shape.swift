extension Tensor {
    /// The same values under another shape of the same count; shares storage.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.count == count, "reshape of \(shape) to \(newShape)")
        let original = shape
        return Self.recording(newShape, storage, inputs: [self], secondOrder: .sameRule) { (g, _) throws(TensorError) in [g.reshaped(original)] }
    }

    /// Reshape that reports a count mismatch as an error instead of trapping.
    public func reshaped(to dimensions: [Int]) throws(TensorError) -> Tensor {
        var dims = dimensions
        if let inferred = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError(.invalidArgument("cannot reshape \(shape) to \(dimensions)"))
            }
            dims[inferred] = count / known
        }
        let target = Shape(dims)
        guard target.count == count else { throw TensorError(.countMismatch(expected: target.count, got: count, shape: target)) }
        return reshaped(target)
    }

    /// Axes reordered: result axis i is input axis `order[i]`. Copies.
    public func permuted(_ order: [Int]) throws(TensorError) -> Tensor {
        guard order.sorted() == Array(0..<rank) else {
            throw TensorError(.invalidArgument("permutation \(order) does not fit rank \(rank)"))
        }
        let result = Self.permuteKernel(self, order)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] { [try g.permuted(inverse)] }
        return Self.recording(result.shape, result.storage, inputs: [self], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            [Self.permuteKernel(g, inverse)]
        }
    }

    /// Two axes swapped (the last two by default). Copies; matmul takes transposes for free.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) throws(TensorError) -> Tensor {
        let a = try shape.normalize(axis: axis0), b = try shape.normalize(axis: axis1)
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return try permuted(order)
    }

    static func permuteKernel(_ x: Tensor, _ order: [Int]) -> Tensor {
        let shape = Shape(order.map { x.shape[$0] })
        let out = Storage(uninitializedCount: x.count)
        let sourceStrides = x.shape.strides
        let strides = order.map { sourceStrides[$0] }
        let dims = shape.dimensions
        let rank = dims.count
        guard rank > 0, x.count > 0 else { return Tensor(shape: shape, storage: x.storage.copy()) }
        let inner = dims[rank - 1], innerStride = strides[rank - 1]
        let input = x.storage.base, output = out.base
        for row in 0..<(x.count / inner) {
            var remainder = row, offset = 0
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                offset += (remainder % dims[axis]) * strides[axis]
                remainder /= dims[axis]
            }
            let target = output + row * inner
            for i in 0..<inner { target[i] = input[offset + i * innerStride] }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Tensors joined along `axis`; all other dimensions must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws(TensorError) -> Tensor {
        guard let first = tensors.first else { throw TensorError(.invalidArgument("concatenate needs at least one tensor")) }
        let resolved = try first.shape.normalize(axis: axis)
        for tensor in tensors.dropFirst() {
            var a = tensor.shape.dimensions, b = first.shape.dimensions
            guard a.count == b.count else { throw TensorError(.shapeMismatch(operation: "concatenate", first.shape, tensor.shape)) }
            a[resolved] = 0
            b[resolved] = 0
            guard a == b else { throw TensorError(.shapeMismatch(operation: "concatenate", first.shape, tensor.shape)) }
        }
        let lengths = tensors.map { $0.shape[resolved] }
        var dims = first.shape.dimensions
        dims[resolved] = lengths.reduce(0, +)
        let shape = Shape(dims)
        let (outer, total, inner) = split(shape, at: resolved)
        let out = Storage(uninitializedCount: shape.count)
        var offset = 0
        for (tensor, length) in zip(tensors, lengths) {
            for o in 0..<outer {
                (out.base + (o * total + offset) * inner).update(from: tensor.storage.base + o * length * inner, count: length * inner)
            }
            offset += length
        }
        return recording(shape, out, inputs: tensors, secondOrder: .sameRule) { (g, needs) throws(TensorError) in
            var start = 0
            var grads: [Tensor?] = []
            for (length, need) in zip(lengths, needs) {
                grads.append(need ? try g.sliced(axis: resolved, start..<(start + length)) : nil)
                start += length
            }
            return grads
        }
    }

    /// Splits along `axis` into pieces of the given lengths.
    public func split(_ lengths: [Int], axis: Int) throws(TensorError) -> [Tensor] {
        let resolved = try shape.normalize(axis: axis)
        guard lengths.reduce(0, +) == shape[resolved], lengths.allSatisfy({ $0 >= 0 }) else {
            throw TensorError(.invalidArgument("split lengths \(lengths) do not add up to \(shape[resolved]) along axis \(axis) of \(shape)"))
        }
        var start = 0
        var pieces: [Tensor] = []
        for length in lengths {
            pieces.append(try sliced(axis: resolved, start..<(start + length)))
            start += length
        }
        return pieces
    }

    /// The elements with index in `range` along `axis`. Copies.
    public func sliced(axis: Int, _ range: Range<Int>) throws(TensorError) -> Tensor {
        let resolved = try shape.normalize(axis: axis)
        guard range.lowerBound >= 0, range.upperBound <= shape[resolved] else {
            throw TensorError(.invalidArgument("slice \(range) is outside axis \(axis) of length \(shape[resolved]) in \(shape)"))
        }
        let (outer, length, inner) = Self.split(shape, at: resolved)
        var dims = shape.dimensions
        dims[resolved] = range.count
        let resultShape = Shape(dims)
        let out = Storage(uninitializedCount: resultShape.count)
        for o in 0..<outer {
            (out.base + o * range.count * inner).update(
                from: storage.base + (o * length + range.lowerBound) * inner, count: range.count * inner)
        }
        let source = shape
        // The gradient placed back between zeros, in recorded operations.
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            var before = source.dimensions, after = source.dimensions
            before[resolved] = range.lowerBound
            after[resolved] = source[resolved] - range.upperBound
            let pieces = [Tensor.zeros(Shape(before)), g, Tensor.zeros(Shape(after))].filter { $0.count > 0 || $0.requiresGrad }
            return [try Tensor.concatenate(pieces, axis: resolved)]
        }
        return Self.recording(resultShape, out, inputs: [self], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            let gradient = Storage(count: source.count)
            for o in 0..<outer {
                (gradient.base + (o * length + range.lowerBound) * inner).update(
                    from: g.storage.base + o * range.count * inner, count: range.count * inner)
            }
            return [Tensor(shape: source, storage: gradient)]
        }
    }
}
