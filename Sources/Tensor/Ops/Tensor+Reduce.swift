extension Tensor {
    /// Splits `shape` around `axis` into (outer, length, inner) element counts.
    static func split(_ shape: Shape, at axis: Int) -> (outer: Int, length: Int, inner: Int) {
        let outer = shape.dimensions[..<axis].reduce(1, *)
        let inner = shape.dimensions[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    static func reducedShape(_ shape: Shape, axis: Int, keep: Bool) -> Shape {
        var dims = shape.dimensions
        if keep { dims[axis] = 1 } else { dims.remove(at: axis) }
        return Shape(dims)
    }

    /// Sum over one axis, in a fixed order (so repeated runs are bit-identical), no tape.
    static func sumKernel(_ x: Tensor, axis: Int, keep: Bool) -> Tensor {
        let (outer, length, inner) = split(x.shape, at: axis)
        let out = Storage(count: outer * inner)
        let input = x.storage.base, output = out.base
        Parallel.forEachChunk(outer, grain: length * inner) { range in
            for o in range {
                let row = output + o * inner
                if inner == 1 {
                    row[0] = sumContiguous(input + o * length, length)
                } else {
                    for k in 0..<length {
                        let source = input + (o * length + k) * inner
                        for i in 0..<inner { row[i] += source[i] }
                    }
                }
            }
        }
        return Tensor(shape: reducedShape(x.shape, axis: axis, keep: keep), storage: out)
    }

    /// A contiguous sum in eight lanes (vectorized; fixed association order).
    @inline(__always)
    static func sumContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = lanes.sum()
        while i < n {
            total += x[i]
            i += 1
        }
        return total
    }

    /// Sum over `axes` (all when nil). Negative axes count from the end.
    public func sum(axes: [Int]? = nil, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        var resolved: [Int] = []
        for axis in axes ?? Array(0..<rank) { resolved.append(try shape.normalize(axis: axis)) }
        resolved = Array(Set(resolved)).sorted(by: >)
        guard rank > 0, !resolved.isEmpty else { return self }
        let input = self
        var result = self.detached()
        for axis in resolved { result = Self.sumKernel(result, axis: axis, keep: true) }
        let keptShape = result.shape
        let finalShape = keepDimensions ? keptShape : Shape(shape.dimensions.enumerated().filter { !resolved.contains($0.offset) }.map(\.element))
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] { [try g.reshaped(keptShape) + Tensor.zeros(input.shape)] }
        return Self.recording(finalShape, result.storage, inputs: [input], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            // Each input element received the sum's gradient once.
            [try Self.broadcastKernel(g.reshaped(keptShape), Tensor.zeros(input.shape), .add)]
        }
    }

    public func sum(axis: Int, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        try sum(axes: [axis], keepDimensions: keepDimensions)
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        var n = 1
        for axis in axes ?? Array(0..<rank) { n *= shape[try shape.normalize(axis: axis)] }
        return try sum(axes: axes, keepDimensions: keepDimensions) * (1 / Float(Swift.max(n, 1)))
    }

    public func mean(axis: Int, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        try mean(axes: [axis], keepDimensions: keepDimensions)
    }

    /// Maximum along `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        let resolved = try shape.normalize(axis: axis)
        let (outer, length, inner) = Self.split(shape, at: resolved)
        guard length > 0 else { throw TensorError(.invalidArgument("max over an empty axis of shape \(shape)")) }
        let indices = argmaxKernel(axis: resolved)
        let out = Storage(uninitializedCount: outer * inner)
        let input = storage.base
        for position in 0..<(outer * inner) {
            let (o, i) = (position / inner, position % inner)
            out.base[position] = input[(o * length + indices[position]) * inner + i]
        }
        let shape = self.shape
        let resultShape = Self.reducedShape(shape, axis: resolved, keep: keepDimensions)
        return Self.recording(resultShape, out, inputs: [self]) { (g, _) throws(TensorError) in
            let gradient = Storage(count: shape.count)
            for position in 0..<(outer * inner) {
                let (o, i) = (position / inner, position % inner)
                gradient.base[(o * length + indices[position]) * inner + i] = g.storage.base[position]
            }
            return [Tensor(shape: shape, storage: gradient)]
        }
    }

    /// Index of the maximum along `axis` (first one on ties), as floats in a tensor without gradient.
    public func argmax(axis: Int, keepDimensions: Bool = false) throws(TensorError) -> Tensor {
        let resolved = try shape.normalize(axis: axis)
        guard shape[resolved] > 0 else { throw TensorError(.invalidArgument("argmax over an empty axis of shape \(shape)")) }
        let indices = argmaxKernel(axis: resolved)
        return Tensor(shape: Self.reducedShape(shape, axis: resolved, keep: keepDimensions), storage: Storage(indices.map(Float.init)))
    }

    func argmaxKernel(axis: Int) -> [Int] {
        let (outer, length, inner) = Self.split(shape, at: axis)
        let input = storage.base
        var indices = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = input[o * length * inner + i]
                for k in 1..<Swift.max(length, 1) {
                    let value = input[(o * length + k) * inner + i]
                    if value > bestValue {
                        bestValue = value
                        best = k
                    }
                }
                indices[o * inner + i] = best
            }
        }
        return indices
    }
}
