/// Point-to-point messages that arrived before anyone asked for them, assembled from their
/// pieces and kept by (sender, key) until taken.
///
/// A pipeline stage's neighbours run ahead of it by design (a forward's activations arrive
/// while the stage is busy with a backward), so out-of-order arrival is the normal case.
/// What a sender can make the receiver hold is bounded: a message's size is checked
/// against `maximumElements` before anything is allocated, and everything held at once
/// against `limitElements`.
struct PeerMailbox {
    /// A message still arriving, or complete and waiting.
    private struct Entry {
        var values: [Float]
        var received: Int
    }

    struct Address: Hashable {
        let sender: Int
        let key: UInt64
    }

    /// Most floats held across every kept message (256 M floats, 1 GiB): a pipeline keeps
    /// at most a step's micro-batches of activations here (MiniLM under GPipe with 16
    /// micro-batches of 16 × 128 tokens: 12.6 M floats).
    var limitElements = 1 << 28
    /// The largest message accepted.
    static let maximumElements = 1 << 28
    private var entries: [Address: Entry] = [:]
    private var heldElements = 0

    /// Adds one piece; a piece that contradicts what arrived before (another total, past
    /// the end, more than the whole) or exceeds the limits is an error, naming why.
    mutating func store(sender: Int, key: UInt64, offset: UInt64, total: UInt64, _ payload: UnsafeRawBufferPointer) throws(MailboxError) {
        let count = payload.count / MemoryLayout<Float>.size
        guard payload.count % MemoryLayout<Float>.size == 0 else { throw MailboxError("a piece of \(payload.count) bytes is not whole floats") }
        guard total <= UInt64(Self.maximumElements) else { throw MailboxError("a message of \(total) floats exceeds the \(Self.maximumElements) accepted") }
        guard offset <= total, UInt64(count) <= total - offset else {
            throw MailboxError("a piece of \(count) floats at offset \(offset) overruns its message of \(total)")
        }
        let address = Address(sender: sender, key: key)
        var entry: Entry
        if let existing = entries[address] {
            guard existing.values.count == Int(total) else {
                throw MailboxError("message \(key) was announced with \(existing.values.count) floats, now \(total)")
            }
            guard existing.received + count <= existing.values.count else {
                throw MailboxError("message \(key) got more than its \(total) floats (a piece sent twice?)")
            }
            // Taken out while it is written, so that the array is not copied (one owner).
            entry = entries.removeValue(forKey: address)!
        } else {
            guard heldElements + Int(total) <= limitElements else {
                throw MailboxError("\(heldElements + Int(total)) floats of unread messages exceed the \(limitElements) a member holds")
            }
            heldElements += Int(total)
            entry = Entry(values: [Float](repeating: 0, count: Int(total)), received: 0)
        }
        if count > 0 {
            entry.values.withUnsafeMutableBytes { target in
                target.baseAddress!.advanced(by: Int(offset) * MemoryLayout<Float>.size).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
            }
        }
        entry.received += count
        entries[address] = entry
    }

    /// The whole message from `sender` under `key` once every piece is in; nil before.
    mutating func take(sender: Int, key: UInt64) -> [Float]? {
        let address = Address(sender: sender, key: key)
        guard let entry = entries[address], entry.received == entry.values.count else { return nil }
        entries[address] = nil
        heldElements -= entry.values.count
        return entry.values
    }

    /// How many messages are kept or arriving.
    var count: Int { entries.count }
}

/// Why a point-to-point piece was refused.
struct MailboxError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
