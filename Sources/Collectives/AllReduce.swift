import Runtime

/// All-reduce, the collective data-parallel training lives on: every member passes a
/// buffer of the same length and ends with the element-wise sum (or mean) of all of them,
/// bit-identical on every rank. Which algorithm moves the data is chosen here and nowhere
/// else: shared memory when every member is on this host (`SharedMemoryAllReduce`), else
/// the one-hop exchange for small buffers and the pipelined ring for the rest
/// (`RingAllReduce`).
extension Communicator {
    /// Combines `buffer` across the ring in place; every member passes the same length.
    public func allReduce(_ buffer: inout [Float], _ operation: ReduceOperation = .sum) throws(CollectiveError) {
        try buffer.withUnsafeMutableBufferPointer { (pointer) throws(CollectiveError) in try allReduce(pointer, operation) }
    }

    /// Combines `buffer` across the ring in place; every member passes the same length.
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation = .sum) throws(CollectiveError) {
        let n = worldSize
        if n > 1 && buffer.count > 0 { try chooseDataPath() }
        var call = try begin("all-reduce #\(sequence + 1) (\(buffer.count) floats, \(operation))")
        guard n > 1, buffer.count > 0 else { return }
        let started = MonotonicClock.nanoseconds
        if let exchange {
            try sharedMemoryAllReduce(buffer, operation, through: exchange, call: call)
        } else if buffer.count <= smallBufferElements {
            try allGatherReduce(buffer, operation, call: &call)
        } else {
            try ringAllReduce(buffer, operation, call: &call)
        }
        metrics.recordAllReduce(floats: buffer.count, nanoseconds: MonotonicClock.nanoseconds - started, sharedMemory: exchange != nil)
    }
}
