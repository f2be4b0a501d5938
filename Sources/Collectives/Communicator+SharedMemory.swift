import Runtime

/// Agreeing on the shared-memory data path, and waiting on the other ranks through it with
/// the same rules as the ring: a deadline, a dead neighbour noticed, an abort seen by all.
extension Communicator {
    /// How long a waiter spins before it sleeps, when every rank has a core of its own: a
    /// futex sleep and wake costs a few microseconds each way, which small all-reduces feel.
    static let spinMicroseconds: Int64 = 50
    /// How long one futex sleep lasts before the waiter checks deadline, neighbours and aborts.
    static let sleepSliceMicroseconds = 5_000

    /// On the first all-reduce, the members agree over the ring whether to use shared
    /// memory: rank 0 makes a segment if it thinks everyone is on its host and offers its
    /// name; the others map it if they think so too; only if all succeed is it used. Rank 0
    /// removes the name once all have answered, so no segment outlives the ring.
    func chooseDataPath() throws(CollectiveError) {
        guard !dataPathChosen else { return }
        dataPathChosen = true
        guard dataPath == .automatic, worldSize > 1 else { return }
        let local = topology.isOnOneHost
        let blockElements = sharedMemoryBlockElements
            ?? (worldSize <= SharedMemoryExchange.processors ? 64 * 1024 : 256 * 1024)
        func name(_ nonce: Int) -> String { "/orrery-\(String(tag, radix: 16))-\(nonce)" }

        var mapped: SharedMemoryExchange?
        var offer: Float = local ? 1 : 0
        var created: String?
        defer { if let created { SharedMemorySegment.unlink(name: created) } }
        if rank == 0 && local {
            let nonce = Int.random(in: 0..<(1 << 24))  // exact in a Float
            do {
                mapped = try SharedMemoryExchange.create(name: name(nonce), worldSize: worldSize, blockElements: blockElements)
                created = name(nonce)
                offer = Float(nonce + 1)
            } catch {
                logger.info("no shared memory for this ring; using ZeroMQ", metadata: ["error": "\(error)"])
                offer = 0
            }
        }
        let offers = try allGather([offer])
        guard offers.allSatisfy({ $0 > 0 }) else { return }
        if rank != 0 {
            do {
                mapped = try SharedMemoryExchange.open(name: name(Int(offers[0]) - 1), rank: rank, worldSize: worldSize, blockElements: blockElements)
            } catch {
                logger.info("could not map rank 0's shared memory; using ZeroMQ", metadata: ["error": "\(error)"])
            }
        }
        let answers = try allGather([mapped == nil ? 0 : 1])
        guard answers.allSatisfy({ $0 > 0 }) else { return }
        exchange = mapped
        logger.debug("all-reduce data through shared memory", metadata: ["ring": "\(topology.collectiveID)", "rank": "\(rank)"])
    }

    /// Waits until `member`'s `counter` reaches `target`: spinning briefly, then sleeping on
    /// the word in slices, checking between slices for an abort, a dead neighbour,
    /// cancellation and the call's deadline.
    func awaitShared(
        _ counter: SharedMemoryExchange.Counter, of member: Int, reaching target: UInt32,
        in exchange: SharedMemoryExchange, call: CallContext
    ) throws(CollectiveError) {
        let word = exchange.counter(counter, of: member)
        if reached(word.load(), target) { return }
        if exchange.spins {
            let started = MonotonicClock.microseconds
            repeat {
                for _ in 0..<64 {
                    SharedWord.relax()
                    if reached(word.load(), target) { return }
                }
            } while MonotonicClock.microseconds - started < Self.spinMicroseconds
        }
        let waiters = exchange.waiters(of: member)
        while true {
            waiters.add(1)
            let seen = word.load()
            if !reached(seen, target) { word.wait(whileEqualTo: seen, microseconds: Self.sleepSliceMicroseconds) }
            waiters.add(UInt32.max)
            if reached(word.load(), target) { return }
            try checkWhileWaiting(on: member, target: target, in: exchange, call: call)
        }
    }

    private func checkWhileWaiting(on member: Int, target: UInt32, in exchange: SharedMemoryExchange, call: CallContext) throws(CollectiveError) {
        if let record = exchange.recordedAbort() {
            let reason = "rank \(record.failedRank) \(record.cause.phrase) (through shared memory)"
            throw fail(
                CollectiveError(.aborted(reportedBy: record.reporter, reason: reason), rank: record.failedRank, operation: call.operation),
                forwardingFrom: record.reporter)
        }
        try checkNeighbours(call.operation)
        if isCancelled() { throw fail(CollectiveError(.cancelled, rank: rank, operation: call.operation)) }
        if MonotonicClock.milliseconds >= call.deadline {
            throw fail(CollectiveError(.timedOut(milliseconds: topology.timeoutMilliseconds), rank: straggler(waitingOn: member, in: exchange), operation: call.operation))
        }
    }

    /// Whom to blame when a wait times out: the rank that has written the fewest blocks
    /// (it has not even joined the call), else the one waited on. Every rank reaches the
    /// same answer, so the abort names one culprit.
    private func straggler(waitingOn member: Int, in exchange: SharedMemoryExchange) -> Int {
        let written = (0..<worldSize).map { exchange.counter(.written, of: $0).load() }
        let laggard = written.indices.min { Int32(bitPattern: written[$0] &- written[$1]) < 0 }!
        return reached(written[laggard], exchange.blocks) ? member : laggard
    }
}

extension SharedMemoryExchange.AbortCause {
    init(_ kind: CollectiveError.Kind) {
        switch kind {
        case .peerDisconnected: self = .disconnected
        case .timedOut: self = .timedOut
        default: self = .other
        }
    }

    var phrase: String {
        switch self {
        case .disconnected: "disconnected"
        case .timedOut: "sent nothing before the deadline"
        case .other: "failed"
        }
    }
}
