extension Tensor {
    /// Rows of `self` (a table [vocabulary, width]) picked by `indices`, shaped
    /// `indexShape + [width]`. The gradient adds each output row back into its table row
    /// (scatter-add), so repeated indices accumulate.
    public func embedding(_ indices: [Int], shape indexShape: Shape? = nil) throws(TensorError) -> Tensor {
        guard rank == 2 else { throw TensorError(.invalidArgument("embedding table must be [vocabulary, width], got \(shape)")) }
        let (vocabulary, width) = (shape[0], shape[1])
        if let bad = indices.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw TensorError(.invalidArgument("embedding index \(bad) is outside 0..<\(vocabulary)"))
        }
        let leading = indexShape ?? [indices.count]
        guard leading.count == indices.count else {
            throw TensorError(.countMismatch(expected: leading.count, got: indices.count, shape: leading))
        }
        let out = Storage(uninitializedCount: indices.count * width)
        for (row, index) in indices.enumerated() {
            (out.base + row * width).update(from: storage.base + index * width, count: width)
        }
        let tableShape = shape
        return Self.recording(Shape(leading.dimensions + [width]), out, inputs: [self]) { (g, _) throws(TensorError) in
            let gradient = Storage(count: tableShape.count)
            for (row, index) in indices.enumerated() {
                let target = gradient.base + index * width, source = g.storage.base + row * width
                for i in 0..<width { target[i] += source[i] }
            }
            return [Tensor(shape: tableShape, storage: gradient)]
        }
    }

    /// Zeroes each element with probability `p` and scales the rest by 1/(1 − p), from a
    /// seeded generator (inverted dropout: nothing to undo at evaluation).
    public func dropout(_ p: Float, using generator: inout SplitMix64) throws(TensorError) -> Tensor {
        guard (0..<1).contains(p) else { throw TensorError(.invalidArgument("dropout probability must be in [0, 1), got \(p)")) }
        guard p > 0 else { return self }
        let keep = 1 / (1 - p)
        let mask = Storage(uninitializedCount: count)
        for i in 0..<count { mask.base[i] = generator.nextUnit() < Double(p) ? 0 : keep }
        return try self * Tensor(shape: shape, storage: mask)
    }

    /// An additive attention mask [T, T]: 0 where query i may attend to key j ≤ i, −∞ after.
    public static func causalMask(_ length: Int) -> Tensor {
        let mask = Storage(count: length * length)
        for i in 0..<length { for j in (i + 1)..<Swift.max(i + 1, length) { mask.base[i * length + j] = -.infinity } }
        return Tensor(shape: [length, length], storage: mask)
    }

    /// An additive padding mask [B, 1, 1, T] (broadcast over heads and queries): 0 for the
    /// first `lengths[b]` keys of sequence b, −∞ for its padding.
    public static func paddingMask(lengths: [Int], length: Int) throws(TensorError) -> Tensor {
        guard lengths.allSatisfy({ (0...length).contains($0) }) else {
            throw TensorError(.invalidArgument("sequence lengths \(lengths) must be within 0...\(length)"))
        }
        let mask = Storage(count: lengths.count * length)
        for (b, valid) in lengths.enumerated() { for j in valid..<length { mask.base[b * length + j] = -.infinity } }
        return Tensor(shape: [lengths.count, 1, 1, length], storage: mask)
    }
}
