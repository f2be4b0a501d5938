/// A sum over some members of a communicator rather than all of them: the replicas of one
/// pipeline stage, which are not ring neighbours of each other.
///
/// Every member of the group sends its buffer to every other (point-to-point messages), and
/// each adds the group's buffers in the group's order, so every member ends with the same
/// bits. Each member sends and receives (G−1)·n floats: for the groups of 2–4 replicas a
/// pipeline has, that is what a ring would move (2(G−1)/G·n) within a factor of two, in one
/// hop instead of 2(G−1).
extension Communicator {
    /// Replaces `buffer` with its sum over `group` (ranks, listed identically on every
    /// member, this one included). `key` names the exchange; it must differ from any other
    /// message these members have in flight.
    public func allReduce(_ buffer: inout [Float], among group: [Int], key: UInt64) throws(CollectiveError) {
        guard group.contains(rank), Set(group).count == group.count else {
            throw CollectiveError(.protocolViolation("group \(group) must list this rank (\(rank)) once"), rank: rank, operation: "group all-reduce \(key)")
        }
        guard group.count > 1 else { return }
        for peer in group where peer != rank { try send(buffer, to: peer, key: key) }
        var parts: [[Float]] = []
        for member in group { parts.append(member == rank ? buffer : try receive(from: member, key: key, count: buffer.count)) }
        var sum = parts[0]
        let count = sum.count
        sum.withUnsafeMutableBufferPointer { total in
            guard count > 0 else { return }
            for part in parts.dropFirst() {
                part.withUnsafeBytes { ReduceKernel.add(into: total.baseAddress!, from: $0.baseAddress!, count: count) }
            }
        }
        buffer = sum
    }
}
