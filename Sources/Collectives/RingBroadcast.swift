/// Broadcast as a pipelined ring pass: the root sends its buffer in chunks to the next
/// member, and every member forwards each chunk as it arrives until it reaches the member
/// before the root.
extension Communicator {
    /// Replaces `buffer` on every member with the root's; every member passes the same length.
    public func broadcast(_ buffer: inout [Float], root: Int = 0) throws(CollectiveError) {
        var call = try begin("broadcast #\(sequence + 1) from rank \(root) (\(buffer.count) floats)")
        guard worldSize > 1, !buffer.isEmpty else { return }
        guard (0..<worldSize).contains(root) else {
            throw CollectiveError(.protocolViolation("root \(root) is outside a ring of \(worldSize)"), rank: rank, operation: call.operation)
        }
        let pieces = Segmentation.pieces(of: 0..<buffer.count, size: chunkElements)
        let distance = (rank - root + worldSize) % worldSize
        let forwards = topology.next != root
        try buffer.withUnsafeMutableBufferPointer { (pointer) throws(CollectiveError) in
            for piece in pieces {
                if distance != 0 {
                    let received = try receiveChunk(step: distance - 1, offset: piece.lowerBound, count: piece.count, call: &call)
                    ReduceKernel.copy(into: pointer.baseAddress! + piece.lowerBound, from: received.baseAddress!, count: piece.count)
                }
                if forwards {
                    try sendChunk(step: distance, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: pointer[piece]), call: call)
                }
            }
        }
    }
}
