import Foundation

extension Tensor {
    /// Rotary position embedding (Su et al. 2021) on [..., T, C]: each row holds C / d heads
    /// of width d (`headWidth`, default C), and each adjacent pair (x₂ᵢ, x₂ᵢ₊₁) of a head at
    /// row t is rotated by the angle pₜ · base^(−2i/d), where pₜ is `positions[t]`.
    ///
    /// Adjacent pairs are the layout of GGUF Llama weights (llama.cpp's converter permutes Q
    /// and K into it); Hugging Face's checkpoints pair i with i + d/2 instead. Positions are
    /// explicit so that tokens after a cached prefix are rotated by where they really are.
    /// Heads stay in place ([B, T, heads·d] needs no permute). The backward pass rotates the
    /// gradient by the opposite angles.
    public func rotaryEmbedding(positions: [Int], base: Float, headWidth: Int? = nil) throws(TensorError) -> Tensor {
        guard rank >= 2 else { throw TensorError(.invalidArgument("rotary embedding needs [..., T, C], got \(shape)")) }
        let width = headWidth ?? shape[rank - 1]
        guard width > 0, width % 2 == 0 else { throw TensorError(.invalidArgument("rotary embedding: head width \(width) must be even")) }
        return try rotaryEmbedding(RotaryTable(positions: positions, headWidth: width, base: base))
    }

    /// The same rotation with angles computed beforehand: a model computes its table once
    /// per forward pass and every layer's queries and keys reuse it.
    public func rotaryEmbedding(_ table: RotaryTable) throws(TensorError) -> Tensor {
        guard rank >= 2 else { throw TensorError(.invalidArgument("rotary embedding needs [..., T, C], got \(shape)")) }
        let (length, rowWidth) = (shape[rank - 2], shape[rank - 1])
        guard rowWidth % table.headWidth == 0 else {
            throw TensorError(.invalidArgument("rotary embedding: rows of \(rowWidth) do not hold heads of width \(table.headWidth)"))
        }
        guard table.length == length else {
            throw TensorError(.invalidArgument("rotary embedding: \(table.length) positions for \(length) rows of \(shape)"))
        }
        let geometry = RotaryGeometry(length: length, rowWidth: rowWidth, headWidth: table.headWidth)
        let out = Storage(uninitializedCount: count)
        Self.rotate(storage.base, into: out.base, rows: count / rowWidth, geometry, table: table.values, inverse: false)
        return Self.recording(shape, out, inputs: [self]) { [shape] (g, _) throws(TensorError) in
            let gradient = Storage(uninitializedCount: g.count)
            Self.rotate(g.storage.base, into: gradient.base, rows: g.count / rowWidth, geometry, table: table.values, inverse: true)
            return [Tensor(shape: shape, storage: gradient)]
        }
    }

    struct RotaryGeometry {
        let length, rowWidth, headWidth: Int
    }


    static func rotate(
        _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, rows: Int, _ g: RotaryGeometry, table: [Float],
        inverse: Bool
    ) {
        let direction: Float = inverse ? -1 : 1
        table.withUnsafeBufferPointer { table in
            for row in 0..<rows {
                let angles = table.baseAddress! + (row % g.length) * g.headWidth
                for head in stride(from: 0, to: g.rowWidth, by: g.headWidth) {
                    let x = source + row * g.rowWidth + head, y = target + row * g.rowWidth + head
                    for i in stride(from: 0, to: g.headWidth, by: 2) {
                        let (cos, sin) = (angles[i], direction * angles[i + 1])
                        let (even, odd) = (x[i], x[i + 1])
                        y[i] = even * cos - odd * sin
                        y[i + 1] = even * sin + odd * cos
                    }
                }
            }
        }
    }
}

/// cos and sin of every rotary angle for some positions, interleaved per (position, pair).
/// Angles are formed in double precision, as position × frequency loses digits in float
/// at long contexts.
public struct RotaryTable: Sendable {
    public let headWidth: Int
    public let length: Int
    let values: [Float]

    public init(positions: [Int], headWidth: Int, base: Float) {
        precondition(headWidth > 0 && headWidth % 2 == 0, "rotary head width \(headWidth) must be even")
        self.headWidth = headWidth
        length = positions.count
        let frequencies = (0..<(headWidth / 2)).map { Foundation.pow(Double(base), -Double(2 * $0) / Double(headWidth)) }
        var values = [Float](repeating: 0, count: positions.count * headWidth)
        for (t, position) in positions.enumerated() {
            for (i, frequency) in frequencies.enumerated() {
                let angle = Double(position) * frequency
                values[t * headWidth + 2 * i] = Float(Foundation.cos(angle))
                values[t * headWidth + 2 * i + 1] = Float(Foundation.sin(angle))
            }
        }
        self.values = values
    }
}
