import Foundation

extension Tensor {
    /// Multi-head scaled dot-product attention on projected activations, with no head
    /// split or merge copies: softmax(Qₕ·Kₕᵀ/√d + mask)·Vₕ for every head h, where head h is
    /// columns h·d..<(h+1)·d of each row. Grouped-query attention when K and V have fewer
    /// heads: query head h reads key/value head h / (heads / keyValueHeads).
    ///
    /// - Parameters:
    ///   - query: [B, T, heads·d].
    ///   - key, value: [B, S, keyValueHeads·d].
    ///   - mask: added to the scores, broadcastable to [B, heads, T, S].
    /// - Returns: [B, T, heads·d].
    ///
    /// Each head's products are BLAS calls on strided sub-matrices (leading dimension
    /// heads·d), the softmax runs in place on the scores, and the probabilities are kept
    /// for the backward pass, which forms dQ, dK and dV the same way.
    public static func multiHeadAttention(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, keyValueHeads: Int, mask: Tensor?
    ) throws(TensorError) -> Tensor {
        guard query.rank == 3, key.rank == 3, value.shape == key.shape, query.shape[0] == key.shape[0], heads > 0,
            keyValueHeads > 0, heads % keyValueHeads == 0, query.shape[2] % heads == 0,
            key.shape[2] == query.shape[2] / heads * keyValueHeads
        else {
            throw TensorError(.shapeMismatch(
                operation: "multi-head attention (query [B, T, \(heads)·d], key and value [B, S, \(keyValueHeads)·d])", query.shape, key.shape))
        }
        let width = query.shape[2] / heads
        let g = AttentionGeometry(
            batch: query.shape[0], length: query.shape[1], keyLength: key.shape[1], heads: heads, keyValueHeads: keyValueHeads, width: width,
            queryRow: heads * width, keyRow: keyValueHeads * width, queryColumn: 0, keyColumn: 0, valueColumn: 0)
        let maskStrides = try attentionMaskStrides(mask, g)
        let probabilities = Storage(uninitializedCount: g.batch * heads * g.length * g.keyLength)
        let out = Storage(uninitializedCount: query.count)
        attentionForward(query.storage.base, key.storage.base, value.storage.base, g, mask: mask, maskStrides, probabilities.base, out.base)
        return recording(query.shape, out, inputs: [query, key, value]) { (dOut, needs) throws(TensorError) in
            let dq = Storage(count: query.count), dk = Storage(count: key.count), dv = Storage(count: value.count)
            attentionBackward(
                dOut.storage.base, query.storage.base, key.storage.base, value.storage.base, probabilities.base, g, dq: dq.base, dk: dk.base,
                dv: dv.base)
            return [
                needs[0] ? Tensor(shape: query.shape, storage: dq) : nil, needs[1] ? Tensor(shape: key.shape, storage: dk) : nil,
                needs[2] ? Tensor(shape: value.shape, storage: dv) : nil,
            ]
        }
    }

    /// Self-attention on one packed projection [B, T, 3·heads·d] whose rows are (Q | K | V),
    /// as one GEMM against the stacked query, key and value weights produces it: one
    /// product instead of three, and the heads are read where they lie.
    /// - Returns: [B, T, heads·d].
    public static func multiHeadAttention(packed: Tensor, heads: Int, mask: Tensor?) throws(TensorError) -> Tensor {
        guard packed.rank == 3, heads > 0, packed.shape[2] % (3 * heads) == 0 else {
            throw TensorError(.invalidArgument("packed attention needs [B, T, 3·\(heads)·d], got \(packed.shape)"))
        }
        let width = packed.shape[2] / (3 * heads), columns = heads * width
        let g = AttentionGeometry(
            batch: packed.shape[0], length: packed.shape[1], keyLength: packed.shape[1], heads: heads, keyValueHeads: heads, width: width,
            queryRow: 3 * columns, keyRow: 3 * columns, queryColumn: 0, keyColumn: columns, valueColumn: 2 * columns)
        let maskStrides = try attentionMaskStrides(mask, g)
        let probabilities = Storage(uninitializedCount: g.batch * heads * g.length * g.keyLength)
        let out = Storage(uninitializedCount: g.batch * g.length * columns)
        let base = packed.storage.base
        attentionForward(base, base, base, g, mask: mask, maskStrides, probabilities.base, out.base)
        return recording(Shape([g.batch, g.length, columns]), out, inputs: [packed]) { (dOut, _) throws(TensorError) in
            let gradient = Storage(count: packed.count)
            let (d, x) = (gradient.base, packed.storage.base)
            attentionBackward(dOut.storage.base, x, x, x, probabilities.base, g, dq: d, dk: d, dv: d)
            return [Tensor(shape: packed.shape, storage: gradient)]
        }
    }

    /// Strides that broadcast `mask` over [B, heads, T, S], or an error naming its shape.
    private static func attentionMaskStrides(_ mask: Tensor?, _ g: AttentionGeometry) throws(TensorError) -> [Int]? {
        guard let mask else { return nil }
        let scoresShape = Shape([g.batch, g.heads, g.length, g.keyLength])
        guard (try? Shape.broadcast(mask.shape, scoresShape)) == scoresShape else {
            throw TensorError(.shapeMismatch(operation: "attention mask (broadcast to [B, heads, T, S])", mask.shape, scoresShape))
        }
        return broadcastStrides(mask.shape, to: scoresShape)
    }

    /// Scores, softmax (kept in `probabilities`) and P·V per (batch, head), heads in parallel.
    private static func attentionForward(
        _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ g: AttentionGeometry, mask: Tensor?,
        _ maskStrides: [Int]?, _ probabilities: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>
    ) {
        nonisolated(unsafe) let (q, k, v, p, o) = (q, k, v, probabilities, out)
        nonisolated(unsafe) let m = mask?.storage.base
        let scale = 1 / Float(g.width).squareRoot()
        BLAS.withoutInnerThreads { () -> Void in
            Parallel.forEachChunk(g.batch * g.heads, grain: g.length * g.keyLength * g.width) { pairs in
                for pair in pairs {
                    let (b, h) = pair.quotientAndRemainder(dividingBy: g.heads)
                    let scores = p + pair * g.length * g.keyLength
                    // scores = Qₕ · Kₕᵀ
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: g.length, n: g.keyLength, k: g.width, a: q + g.queryOffset(b, h),
                        lda: g.queryRow, b: k + g.keyOffset(b, h), ldb: g.keyRow, c: scores, ldc: g.keyLength, accumulate: false)
                    for t in 0..<g.length {
                        let row = scores + t * g.keyLength
                        if let m, let s = maskStrides {
                            let maskRow = m + b * s[0] + h * s[1] + t * s[2]
                            for j in 0..<g.keyLength { row[j] = row[j] * scale + maskRow[j * s[3]] }
                        } else {
                            for j in 0..<g.keyLength { row[j] *= scale }
                        }
                        softmaxRow(row, g.keyLength)
                    }
                    // Oₕ = P · Vₕ, written into head h's columns.
                    BLAS.sgemm(
                        transposeA: false, transposeB: false, m: g.length, n: g.width, k: g.keyLength, a: scores, lda: g.keyLength,
                        b: v + g.valueOffset(b, h), ldb: g.keyRow, c: o + g.outputOffset(b, h), ldc: g.outputRow, accumulate: false)
                }
            }
        }
    }

    /// dQ, dK and dV (zeroed, laid out as Q, K and V) from dO, one task per key/value head:
    /// the query heads that share it add into its dK and dV in turn.
    private static func attentionBackward(
        _ dOut: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
        _ probabilities: UnsafePointer<Float>, _ g: AttentionGeometry, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>
    ) {
        nonisolated(unsafe) let (dO, q, k, v, p) = (dOut, q, k, v, probabilities)
        nonisolated(unsafe) let (gq, gk, gv) = (dq, dk, dv)
        let scale = 1 / Float(g.width).squareRoot()
        BLAS.withoutInnerThreads { () -> Void in
            Parallel.forEachChunk(g.batch * g.keyValueHeads, grain: g.length * g.keyLength * g.width * 4) { groups in
                let dScores = UnsafeMutablePointer<Float>.allocate(capacity: g.length * g.keyLength)
                defer { dScores.deallocate() }
                for group in groups {
                    let (b, kvHead) = group.quotientAndRemainder(dividingBy: g.keyValueHeads)
                    for h in (kvHead * g.groupSize)..<((kvHead + 1) * g.groupSize) {
                        let probs = p + (b * g.heads + h) * g.length * g.keyLength
                        let (qOffset, kOffset, vOffset, oOffset) = (g.queryOffset(b, h), g.keyOffset(b, h), g.valueOffset(b, h), g.outputOffset(b, h))
                        // dV += Pᵀ · dO
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.keyLength, n: g.width, k: g.length, a: probs, lda: g.keyLength,
                            b: dO + oOffset, ldb: g.outputRow, c: gv + vOffset, ldc: g.keyRow, accumulate: true)
                        // dP = dO · Vᵀ, then dS = P ⊙ (dP − Σ dP ⊙ P) · scale
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: g.length, n: g.keyLength, k: g.width, a: dO + oOffset, lda: g.outputRow,
                            b: v + vOffset, ldb: g.keyRow, c: dScores, ldc: g.keyLength, accumulate: false)
                        for t in 0..<g.length {
                            let (dRow, pRow) = (dScores + t * g.keyLength, probs + t * g.keyLength)
                            var dot: Float = 0
                            for j in 0..<g.keyLength { dot += dRow[j] * pRow[j] }
                            for j in 0..<g.keyLength { dRow[j] = pRow[j] * (dRow[j] - dot) * scale }
                        }
                        // dQ = dS · K ; dK += dSᵀ · Q
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: g.length, n: g.width, k: g.keyLength, a: dScores, lda: g.keyLength,
                            b: k + kOffset, ldb: g.keyRow, c: gq + qOffset, ldc: g.queryRow, accumulate: false)
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.keyLength, n: g.width, k: g.length, a: dScores, lda: g.keyLength,
                            b: q + qOffset, ldb: g.queryRow, c: gk + kOffset, ldc: g.keyRow, accumulate: true)
                    }
                }
            }
        }
    }

    /// Stable in-place softmax of one row (−∞ entries get weight 0).
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        var maximum = row[0]
        for j in 1..<n where row[j] > maximum { maximum = row[j] }
        if maximum == -.infinity {
            // A fully masked row attends nowhere: zeros rather than NaNs.
            row.update(repeating: 0, count: n)
            return
        }
        VectorMath.map(row, row, n) { VectorMath.exp($0 - maximum) }
        let inverse = 1 / sumContiguous(row, n)
        for j in 0..<n { row[j] *= inverse }
    }
}

/// Where each head's rows live: Q rows of `queryRow` floats starting at column
/// `queryColumn`, K and V rows of `keyRow` floats (separate tensors, or column blocks of one
/// packed projection); the output is [B, T, heads·d].
struct AttentionGeometry {
    let batch, length, keyLength, heads, keyValueHeads, width: Int
    let queryRow, keyRow: Int
    let queryColumn, keyColumn, valueColumn: Int

    var groupSize: Int { heads / keyValueHeads }
    var outputRow: Int { heads * width }

    func queryOffset(_ b: Int, _ h: Int) -> Int { b * length * queryRow + queryColumn + h * width }
    func keyOffset(_ b: Int, _ h: Int) -> Int { b * keyLength * keyRow + keyColumn + (h / groupSize) * width }
    func valueOffset(_ b: Int, _ h: Int) -> Int { b * keyLength * keyRow + valueColumn + (h / groupSize) * width }
    func outputOffset(_ b: Int, _ h: Int) -> Int { b * length * outputRow + h * width }
}
