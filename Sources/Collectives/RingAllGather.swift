/// All-gather as a ring: in step k each member forwards the block it received in step
/// k−1 (its own block first), so after N−1 steps every member holds every block.
extension Communicator {
    /// Every member's `block`, concatenated in rank order; every member passes the same length.
    public func allGather(_ block: [Float]) throws(CollectiveError) -> [Float] {
        var call = try begin("all-gather #\(sequence + 1) (\(block.count) floats per rank)")
        var all = [Float](repeating: 0, count: block.count * worldSize)
        all.replaceSubrange((rank * block.count)..<((rank + 1) * block.count), with: block)
        guard worldSize > 1, !block.isEmpty else { return all }
        try all.withUnsafeMutableBufferPointer { (pointer) throws(CollectiveError) in
            try ringGather(pointer, blockSize: block.count, call: &call)
        }
        return all
    }

    /// Fills the other members' blocks of `all` (this member's block must already be in
    /// place), each block sent in chunks.
    func ringGather(_ all: UnsafeMutableBufferPointer<Float>, blockSize: Int, call: inout CallContext) throws(CollectiveError) {
        let n = worldSize
        func pieces(ofBlock index: Int) -> [Range<Int>] {
            Segmentation.pieces(of: (index * blockSize)..<((index + 1) * blockSize), size: chunkElements)
        }
        for piece in pieces(ofBlock: rank) {
            try sendChunk(step: 0, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: all[piece]), call: call)
        }
        for step in 0..<(n - 1) {
            let block = ((rank - step - 1) % n + n) % n
            for piece in pieces(ofBlock: block) {
                let received = try receiveChunk(step: step, offset: piece.lowerBound, count: piece.count, call: &call)
                ReduceKernel.copy(into: all.baseAddress! + piece.lowerBound, from: received.baseAddress!, count: piece.count)
                if step + 1 < n - 1 {
                    try sendChunk(step: step + 1, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: all[piece]), call: call)
                }
            }
        }
    }
}
