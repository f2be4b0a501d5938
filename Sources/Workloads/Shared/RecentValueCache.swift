import Foundation

/// The last few values a worker made, by key, shared by its task threads; least recently
/// used entries go first. Prompt search keeps prepared prompts here (SmolLM2: the prefix's
/// keys and values; MiniLM: the class vectors, by prompt digest: a candidate's examples
/// arrive as several tasks, usually on the same worker in a row, so the prefix is run once
/// per worker rather than once per task); NAS keeps the loaded data set.
final class RecentValueCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(key: String, value: Value)] = []
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    /// The cached value for `key`, or a new one from `make` (run outside the lock, so other
    /// task threads are not held up; two threads may then both make it, which costs time only).
    func value(for key: String, make: () throws -> Value) throws -> Value {
        if let found = lookup(key) { return found }
        let value = try make()
        lock.withLock {
            entries.removeAll { $0.key == key }
            entries.append((key, value))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
        return value
    }

    private func lookup(_ key: String) -> Value? {
        lock.withLock {
            guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.value
        }
    }
}
