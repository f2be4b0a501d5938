/// All-reduce through shared memory, for members on one host: the buffer streams through
/// the segment in blocks. For each block every rank copies its part into its staging slot;
/// rank r sums segment r of the block over all slots, in rank order, and leaves it in the
/// result area (and in its own buffer); then every rank copies the other segments out.
/// Each rank moves the buffer in and out once and reads 1/N of every other rank's, with no
/// socket, frame or kernel copy in between. The staging slots are double-buffered, so a
/// rank may fill block k+1 while slower ones still read block k.
///
/// Buffers that fit in one block and are small take a shorter path: every rank sums the
/// whole of every slot itself, which saves a round of signalling. Either way each element
/// is summed in rank order by exactly one rule, so every rank ends with the same bits.
extension Communicator {
    func sharedMemoryAllReduce(
        _ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
        through exchange: SharedMemoryExchange, call: CallContext
    ) throws(CollectiveError) {
        let n = worldSize, base = buffer.baseAddress!
        let request = SharedMemoryExchange.describe(count: buffer.count, operation)
        let scale: Float? = operation == .mean ? 1 / Float(n) : nil
        let whole = buffer.count <= min(smallBufferElements, exchange.blockElements)
        for block in Segmentation.pieces(of: 0..<buffer.count, size: exchange.blockElements) {
            exchange.blocks &+= 1
            let number = exchange.blocks, stage = Int(number & 1)
            // This stage's slots and result area are free once everyone has finished the
            // block before the previous one.
            for member in 0..<n {
                try awaitShared(.done, of: member, reaching: number &- 2, in: exchange, call: call)
            }
            exchange.call(of: rank, stage: stage).store(request)
            ReduceKernel.copy(into: exchange.slot(of: rank, stage: stage), from: base + block.lowerBound, count: block.count)
            exchange.publish(.written, number)
            for member in 0..<n where member != rank {
                try awaitShared(.written, of: member, reaching: number, in: exchange, call: call)
                try checkSameCall(member, request: request, stage: stage, in: exchange, call: call)
            }
            let slots = (0..<n).map { UnsafePointer(exchange.slot(of: $0, stage: stage)) }
            let target = base + block.lowerBound
            if whole {
                ReduceKernel.sum(slots, count: block.count, into: target, scale: scale)
                exchange.publish(.done, number)
                continue
            }
            let mine = Segmentation.alignedPart(rank, of: block.count, parts: n)
            let result = exchange.result(stage: stage)
            ReduceKernel.sum(
                slots.map { $0 + mine.lowerBound }, count: mine.count,
                into: result + mine.lowerBound, also: target + mine.lowerBound, scale: scale)
            exchange.publish(.reduced, number)
            for member in 0..<n where member != rank {
                try awaitShared(.reduced, of: member, reaching: number, in: exchange, call: call)
                let theirs = Segmentation.alignedPart(member, of: block.count, parts: n)
                ReduceKernel.copy(into: target + theirs.lowerBound, from: result + theirs.lowerBound, count: theirs.count)
            }
            exchange.publish(.done, number)
        }
    }

    /// Fails the ring if `member` was asked for another length or operation: summing its
    /// slot anyway would give every rank a wrong answer without a word.
    private func checkSameCall(_ member: Int, request: UInt32, stage: Int, in exchange: SharedMemoryExchange, call: CallContext) throws(CollectiveError) {
        let theirs = exchange.call(of: member, stage: stage).load()
        guard theirs != request else { return }
        throw fail(CollectiveError(
            .protocolViolation("rank \(member) called with \(SharedMemoryExchange.explain(theirs)), rank \(rank) with \(SharedMemoryExchange.explain(request)) (do the ranks disagree about the buffer size?)"),
            rank: member, operation: call.operation))
    }
}
