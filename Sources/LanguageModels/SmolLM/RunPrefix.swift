import Tensor

/// A prefix the model has already run: its keys and values and its last hidden state.
/// Continuing it never changes it (`KVCache.branch` copies nothing and appending makes new
/// tensors), so one value can serve many batches, on several threads at once.
public struct RunPrefix: @unchecked Sendable {
    public let tokens: [Int]
    let cache: KVCache
    /// The hidden state of the last prefix token [1, 1, width], nil for an empty prefix.
    let last: Tensor?
}
