import Foundation

/// Checkpoints a worker keeps in its own memory for tasks that will most likely continue
/// on it (a NAS trial that ASHA may promote), so that the bytes need not make the round
/// trip through the coordinator between one task and the next.
///
/// What is kept is a convenience, never the only copy of anything a result depends on: an
/// executor that is handed an id it does not hold (another worker's, an evicted one, one
/// from before a restart) must rebuild the state another way. Bounded by bytes; the least
/// recently used go first.
final class KeptCheckpoints: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(id: String, data: Data)] = []
    private var bytes = 0
    /// An id prefix unique to this process, so that an id from another worker never matches.
    private let process = UUID().uuidString
    private var counter = 0
    let capacityBytes: Int

    init(capacityBytes: Int) {
        precondition(capacityBytes > 0)
        self.capacityBytes = capacityBytes
    }

    /// Keeps `data` (unless it alone exceeds the capacity) and returns the id to ask for it by.
    func keep(_ data: Data) -> String {
        lock.withLock {
            counter += 1
            let id = "\(process)-\(counter)"
            guard data.count <= capacityBytes else { return id }
            entries.append((id, data))
            bytes += data.count
            while bytes > capacityBytes, !entries.isEmpty { bytes -= entries.removeFirst().data.count }
            return id
        }
    }

    /// The checkpoint kept under `id`, if this worker still holds it.
    func kept(_ id: String) -> Data? {
        lock.withLock {
            guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.data
        }
    }

    var count: Int { lock.withLock { entries.count } }
}
