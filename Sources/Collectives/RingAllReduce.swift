import Messaging
import Runtime

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
    ///
    /// Chunks leave from the buffer itself (borrowed by libzmq, not copied): a segment's
    /// region is not written again until its final value arrives in the all-gather, N − 1
    /// steps after it was sent, and only once libzmq has released it (one tracker per
    /// segment). Nothing is returned to the caller, on success or failure, while libzmq
    /// still reads from the buffer.
    func ringAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation, call: inout CallContext) throws(CollectiveError) {
        let n = worldSize
        let segments = Segmentation(count: buffer.count, parts: n, chunk: ringPieceElements(count: buffer.count))
        let sent = (0..<n).map { _ in BorrowedSends() }
        do {
            try ringSteps(buffer, operation, segments: segments, sent: sent, call: &call)
            for tracker in sent { try awaitReleased(tracker, call: call) }
        } catch {
            abandonBorrowedSends(sent)
            throw error
        }
    }

    /// Floats per piece of the ring: `chunkElements` at most, but small enough that a
    /// segment is cut into about 4 pieces (never below 64 K floats), so that a segment of a
    /// few megabytes still overlaps sending, receiving and adding. Measured between hosts
    /// at 10 Gbit/s (docs/benchmarks.md): one 1 MB piece per segment halved a 1 MB
    /// all-reduce of 2 ranks, and 64 K pieces ran 64 MB buffers up to 1.2× slower than 256 K.
    func ringPieceElements(count: Int) -> Int {
        let quarterSegment = (count / worldSize + 3) / 4
        return min(chunkElements, max(64 * 1024, quarterSegment))
    }

    private func ringSteps(
        _ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation, segments: Segmentation, sent: [BorrowedSends],
        call: inout CallContext
    ) throws(CollectiveError) {
        let n = worldSize, base = buffer.baseAddress!
        let steps = 2 * (n - 1)
        for piece in segments.chunks(ofSegment: rank) {
            try sendChunk(step: 0, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: buffer[piece]), call: call, borrowing: sent[rank])
        }
        for step in 0..<steps {
            let segment = ((rank - step - 1) % n + n) % n
            let reducing = step < n - 1
            // The all-gather overwrites a region sent earlier in this call.
            if !reducing { try awaitReleased(sent[segment], call: call) }
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
                    try sendChunk(
                        step: step + 1, offset: piece.lowerBound, UnsafeBufferPointer(rebasing: buffer[piece]), call: call,
                        borrowing: sent[segment])
                }
            }
        }
    }

    /// Waits until libzmq has released every chunk counted by `tracker`, watching the
    /// neighbours meanwhile (a refused or dead next rank never takes them); past the call's
    /// deadline the next rank, which is not reading them, is named.
    private func awaitReleased(_ tracker: BorrowedSends, call: CallContext) throws(CollectiveError) {
        while !tracker.waitUntilReleased(deadline: min(call.deadline, MonotonicClock.milliseconds + 20)) {
            try checkNeighbours(call.operation)
            if MonotonicClock.milliseconds >= call.deadline {
                throw fail(CollectiveError(.timedOut(milliseconds: topology.timeoutMilliseconds), rank: topology.next, operation: call.operation))
            }
        }
    }

    /// After a failure: the ring is over, so its sockets are closed at once (libzmq then drops
    /// what it still queues and releases the borrowed chunks), and the buffer is handed back
    /// only once they are released.
    private func abandonBorrowedSends(_ trackers: [BorrowedSends]) {
        guard trackers.contains(where: { $0.pending > 0 }) else { return }
        closeNeighbourSocketsNow()
        let deadline = MonotonicClock.milliseconds + 10_000
        for tracker in trackers where !tracker.waitUntilReleased(deadline: deadline) {
            // libzmq closes a socket's pipes on its I/O thread within milliseconds; a chunk
            // still held after 10 s would be read after the caller reuses its buffer.
            logger.critical("libzmq still holds \(tracker.pending) chunk(s) of a failed all-reduce after 10 s")
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
