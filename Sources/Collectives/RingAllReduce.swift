/// All-reduce as a pipelined ring (Patarasuk & Yuan 2009, as in Horovod and Gloo): the
/// buffer is cut into N segments; in N−1 reduce-scatter steps each segment travels the ring
/// gathering every member's contribution, and in N−1 all-gather steps the finished segments
/// travel once more. Each segment is sent in chunks and every received chunk is reduced and
/// forwarded at once, so sending, receiving and adding overlap and the two phases never
/// drain between them. Every member sends and receives 2(N−1)/N of the buffer.
///
/// Each segment is finished by exactly one member and then copied, so every rank ends with
/// bit-identical results. Small buffers take the one-hop path instead (`allGatherReduce`).
extension Communicator {
    /// The two-phase pipelined ring described above.
    func ringAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation, call: inout CallContext) throws(CollectiveError) {
        let n = worldSize, base = buffer.baseAddress!
        let segments = Segmentation(count: buffer.count, parts: n, chunk: chunkElements)
        let steps = 2 * (n - 1)
        for piece in segments.chunks(ofSegment: rank) {
            try sendChunk(step: 0, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: buffer[piece]), call: call)
        }
        for step in 0..<steps {
            let segment = ((rank - step - 1) % n + n) % n
            let reducing = step < n - 1
            for piece in segments.chunks(ofSegment: segment) {
                let received = try receiveChunk(step: step, offset: piece.lowerBound, count: piece.count, call: &call)
                let target = base + piece.lowerBound
                if reducing {
                    ReduceKernel.add(into: target, from: received.baseAddress!, count: piece.count)
                    if step == n - 2 && operation == .mean { ReduceKernel.scale(target, count: piece.count, by: 1 / Float(n)) }
                } else {
                    ReduceKernel.copy(into: target, from: received.baseAddress!, count: piece.count)
                }
                if step + 1 < steps {
                    try sendChunk(step: step + 1, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: buffer[piece]), call: call)
                }
            }
        }
    }

    /// The one-hop path: every member's whole buffer goes round the ring (N−1 hops, one
    /// for two members), then each member sums all N in rank order — the same order on
    /// every rank, hence the same bits.
    func allGatherReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation, call: inout CallContext) throws(CollectiveError) {
        let count = buffer.count
        var gathered = [Float](repeating: 0, count: count * worldSize)
        try gathered.withUnsafeMutableBufferPointer { (all) throws(CollectiveError) in
            _ = UnsafeMutableBufferPointer(rebasing: all[(rank * count)..<((rank + 1) * count)]).update(fromContentsOf: buffer)
            try ringGather(all, blockSize: count, call: &call)
            let target = buffer.baseAddress!
            ReduceKernel.copy(into: target, from: all.baseAddress!, count: count)
            for member in 1..<worldSize {
                ReduceKernel.add(into: target, from: all.baseAddress! + member * count, count: count)
            }
            if operation == .mean { ReduceKernel.scale(target, count: count, by: 1 / Float(worldSize)) }
        }
    }
}
