import Runtime

/// A dictionary that remembers only its most recent `capacity` keys: adding one more
/// forgets the oldest. Memory stays bounded however many keys pass through.
struct RecentMap<Key: Hashable, Value> {
    let capacity: Int
    private var values: [Key: Value] = [:]
    private var order = FIFO<Key>()

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    subscript(key: Key) -> Value? { values[key] }

    mutating func set(_ key: Key, _ value: Value) {
        if values.updateValue(value, forKey: key) == nil { order.push(key) }
        while values.count > capacity, let oldest = order.pop() { values[oldest] = nil }
    }

    var count: Int { values.count }
}
