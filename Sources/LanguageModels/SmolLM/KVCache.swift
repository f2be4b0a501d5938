import Tensor

/// Keys and values of the tokens a Llama model has already seen, per layer
/// ([B, S, key/value heads · head width]), so that each new token attends to them without
/// recomputing them: generation costs one token's work per step, and a prompt prefix
/// shared by many examples is computed once.
public final class KVCache {
    public private(set) var keys: [Tensor?]
    public private(set) var values: [Tensor?]
    /// Tokens cached so far (S).
    public private(set) var length = 0

    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Appends one layer's new keys and values; returns the whole keys and values so far.
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws(TensorError) -> (Tensor, Tensor) {
        let allKeys = try keys[layer].map { old throws(TensorError) in try Tensor.concatenate([old, newKeys], axis: 1) } ?? newKeys
        let allValues = try values[layer].map { old throws(TensorError) in try Tensor.concatenate([old, newValues], axis: 1) } ?? newValues
        keys[layer] = allKeys
        values[layer] = allValues
        return (allKeys, allValues)
    }

    /// Called once per forward pass after every layer appended `count` tokens.
    func advance(by count: Int) { length += count }

    /// A cache that starts where this one is and then goes its own way: one shared prefix
    /// continued by several texts in turn. Costs no copy, because appending never changes a
    /// cached tensor, it makes a longer one.
    public func branch() -> KVCache {
        let copy = KVCache(layers: keys.count)
        copy.keys = keys
        copy.values = values
        copy.length = length
        return copy
    }

    /// A copy of this (batch-1) cache repeated for `batch` sequences: one shared prefix
    /// continued in `batch` different ways.
    public func repeated(_ batch: Int) throws(TensorError) -> KVCache {
        let copy = KVCache(layers: keys.count)
        copy.length = length
        func tile(_ tensor: Tensor?) throws(TensorError) -> Tensor? {
            guard let tensor else { return nil }
            guard tensor.shape[0] == 1 else { throw TensorError(.invalidArgument("only a batch-1 cache can be repeated, got \(tensor.shape)")) }
            return try Tensor.concatenate(Array(repeating: tensor, count: batch), axis: 0)
        }
        for layer in keys.indices {
            copy.keys[layer] = try tile(keys[layer])
            copy.values[layer] = try tile(values[layer])
        }
        return copy
    }
}
