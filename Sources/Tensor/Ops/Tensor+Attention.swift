extension Tensor {
    /// [B, T, heads·d] → [B, heads, T, d]: one contiguous [T, d] block per head.
    public func splittingHeads(_ heads: Int) throws(TensorError) -> Tensor {
        guard rank == 3, shape[2] % heads == 0 else {
            throw TensorError(.invalidArgument("splitting \(heads) heads needs [B, T, heads·d], got \(shape)"))
        }
        return try reshaped(to: [shape[0], shape[1], heads, shape[2] / heads]).permuted([0, 2, 1, 3])
    }

    /// [B, heads, T, d] → [B, T, heads·d], the inverse of `splittingHeads`.
    public func mergingHeads() throws(TensorError) -> Tensor {
        guard rank == 4 else { throw TensorError(.invalidArgument("merging heads needs [B, heads, T, d], got \(shape)")) }
        return try permuted([0, 2, 1, 3]).reshaped(to: [shape[0], shape[2], shape[1] * shape[3]])
    }

    /// Scaled dot-product attention, softmax(Q·Kᵀ/√d + mask)·V, with grouped-query
    /// attention when K and V have fewer heads than Q (Ainslie et al. 2023).
    ///
    /// - Parameters:
    ///   - query: [B, H, T, d].
    ///   - key: [B, Hkv, S, d] with H a multiple of Hkv; query head h reads key head
    ///     h / (H / Hkv), as in Llama.
    ///   - value: [B, Hkv, S, d].
    ///   - mask: added to the scores, broadcastable to [B, H, T, S] (e.g.
    ///     `Tensor.causalMask(T)` or `Tensor.paddingMask(...)`).
    /// - Returns: [B, H, T, d].
    ///
    /// Grouping costs no copy: the G = H / Hkv query heads that share a key head are
    /// contiguous, so Q is viewed as [B, Hkv, G·T, d] and each key head is multiplied once.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor?) throws(TensorError) -> Tensor {
        guard query.rank == 4, key.rank == 4, value.shape == key.shape, query.shape[0] == key.shape[0],
            query.shape[3] == key.shape[3], key.shape[1] > 0, query.shape[1] % key.shape[1] == 0
        else {
            throw TensorError(.shapeMismatch(operation: "attention (query [B, H, T, d], key and value [B, Hkv, S, d])", query.shape, key.shape))
        }
        let (batch, heads, length, width) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (keyHeads, keyLength) = (key.shape[1], key.shape[2])
        let grouped = try query.reshaped(to: [batch, keyHeads, heads / keyHeads * length, width])
        var scores = try grouped.matmul(key, transposeB: true) * (1 / Float(width).squareRoot())
        if let mask {
            scores = try (scores.reshaped(to: [batch, heads, length, keyLength]) + mask).reshaped(to: scores.shape.dimensions)
        }
        return try scores.softmax().matmul(value).reshaped(to: [batch, heads, length, width])
    }
}
