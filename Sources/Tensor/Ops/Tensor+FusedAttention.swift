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
        let g = AttentionGeometry(
            batch: query.shape[0], length: query.shape[1], keyLength: key.shape[1], heads: heads, keyValueHeads: keyValueHeads,
            width: query.shape[2] / heads)
        let scoresShape = Shape([g.batch, heads, g.length, g.keyLength])
        var maskStrides: [Int]?
        if let mask {
            guard (try? Shape.broadcast(mask.shape, scoresShape)) == scoresShape else {
                throw TensorError(.shapeMismatch(operation: "attention mask (broadcast to [B, heads, T, S])", mask.shape, scoresShape))
            }
            maskStrides = broadcastStrides(mask.shape, to: scoresShape)
        }
        let probabilities = Storage(uninitializedCount: scoresShape.count)
        let out = Storage(uninitializedCount: query.count)
        let (q, k, v, p, o) = (query.storage.base, key.storage.base, value.storage.base, probabilities.base, out.base)
        let m = mask?.storage.base
        let scale = 1 / Float(g.width).squareRoot()
        BLAS.withoutInnerThreads { () -> Void in Parallel.forEachChunk(g.batch * heads, grain: g.length * g.keyLength * g.width) { pairs in
            for pair in pairs {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let scores = p + pair * g.length * g.keyLength
                // scores = Qₕ · Kₕᵀ
                BLAS.sgemm(
                    transposeA: false, transposeB: true, m: g.length, n: g.keyLength, k: g.width, a: q + g.queryOffset(b, h), lda: g.queryStride,
                    b: k + g.keyOffset(b, h), ldb: g.keyStride, c: scores, ldc: g.keyLength, accumulate: false)
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
                    b: v + g.keyOffset(b, h), ldb: g.keyStride, c: o + g.queryOffset(b, h), ldc: g.queryStride, accumulate: false)
            }
        } }
        return recording(query.shape, out, inputs: [query, key, value]) { (dOut, needs) throws(TensorError) in
            let dq = Storage(count: query.count), dk = Storage(count: key.count), dv = Storage(count: value.count)
            let (gq, gk, gv, dO) = (dq.base, dk.base, dv.base, dOut.storage.base)
            let (q, k, v, p) = (query.storage.base, key.storage.base, value.storage.base, probabilities.base)
            // One task per key/value head: the query heads that share it add into its dK and dV in turn.
            BLAS.withoutInnerThreads { () -> Void in Parallel.forEachChunk(g.batch * keyValueHeads, grain: g.length * g.keyLength * g.width * 4) { groups in
                let dScores = UnsafeMutablePointer<Float>.allocate(capacity: g.length * g.keyLength)
                defer { dScores.deallocate() }
                for group in groups {
                    let (b, kvHead) = group.quotientAndRemainder(dividingBy: keyValueHeads)
                    for h in (kvHead * g.groupSize)..<((kvHead + 1) * g.groupSize) {
                        let probs = p + (b * heads + h) * g.length * g.keyLength
                        let (qOffset, kOffset) = (g.queryOffset(b, h), g.keyOffset(b, h))
                        // dV += Pᵀ · dO
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.keyLength, n: g.width, k: g.length, a: probs, lda: g.keyLength,
                            b: dO + qOffset, ldb: g.queryStride, c: gv + kOffset, ldc: g.keyStride, accumulate: true)
                        // dP = dO · Vᵀ, then dS = P ⊙ (dP − Σ dP ⊙ P) · scale
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: g.length, n: g.keyLength, k: g.width, a: dO + qOffset, lda: g.queryStride,
                            b: v + kOffset, ldb: g.keyStride, c: dScores, ldc: g.keyLength, accumulate: false)
                        for t in 0..<g.length {
                            let (dRow, pRow) = (dScores + t * g.keyLength, probs + t * g.keyLength)
                            var dot: Float = 0
                            for j in 0..<g.keyLength { dot += dRow[j] * pRow[j] }
                            for j in 0..<g.keyLength { dRow[j] = pRow[j] * (dRow[j] - dot) * scale }
                        }
                        // dQ = dS · K ; dK += dSᵀ · Q
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: g.length, n: g.width, k: g.keyLength, a: dScores, lda: g.keyLength,
                            b: k + kOffset, ldb: g.keyStride, c: gq + qOffset, ldc: g.queryStride, accumulate: false)
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.keyLength, n: g.width, k: g.length, a: dScores, lda: g.keyLength,
                            b: q + qOffset, ldb: g.queryStride, c: gk + kOffset, ldc: g.keyStride, accumulate: true)
                    }
                }
            } }
            return [
                needs[0] ? Tensor(shape: query.shape, storage: dq) : nil, needs[1] ? Tensor(shape: key.shape, storage: dk) : nil,
                needs[2] ? Tensor(shape: value.shape, storage: dv) : nil,
            ]
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

/// Where each head's rows live inside [B, T, heads·d] and [B, S, keyValueHeads·d].
struct AttentionGeometry {
    let batch, length, keyLength, heads, keyValueHeads, width: Int

    var groupSize: Int { heads / keyValueHeads }
    var queryStride: Int { heads * width }
    var keyStride: Int { keyValueHeads * width }

    func queryOffset(_ b: Int, _ h: Int) -> Int { b * length * queryStride + h * width }
    func keyOffset(_ b: Int, _ h: Int) -> Int { b * keyLength * keyStride + (h / groupSize) * width }
}
