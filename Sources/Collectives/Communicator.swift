import Glibc
import Logging
import Messaging
import Runtime
import Wire

/// One member's end of a ring: sockets to its two neighbours, the borrowed receiving
/// socket, and the rules every collective follows — a deadline on every wait, a dead
/// neighbour detected from its closed connection, and an abort passed around the ring so
/// that every member fails naming the same culprit instead of waiting.
///
/// Frames go only to the next rank (data) and, for aborts, to both neighbours. When every
/// member is on this host, all-reduces move their data through a shared-memory segment
/// instead (`SharedMemoryExchange`), agreed on over the ring at the first one. Not
/// thread-safe: one thread makes every call, in the same order on every rank.
public final class Communicator {
    public let topology: RingTopology
    let receiver: Socket
    let dataPlane: DataPlaneEndpoint
    /// Sockets to the next and previous rank (the same one when there are two members).
    let toNext: Socket?
    let toPrevious: Socket?
    var monitors: [(monitor: SocketMonitor, rank: Int)] = []
    var poller: Poller
    /// Sockets to members other than the two neighbours, opened when first needed by
    /// point-to-point messages (`Communicator+PointToPoint`).
    var otherPeers: [Int: Socket] = [:]
    /// Point-to-point messages received but not yet asked for.
    var mailbox = PeerMailbox()
    /// Shared-memory channels to and from members on this host, once agreed on
    /// (`openSharedChannels`); messages to other members go over ZeroMQ.
    var outgoingChannels: [Int: PeerChannel] = [:]
    var incomingChannels: [Int: PeerChannel] = [:]
    let context: ZMQContext
    let isCancelled: @Sendable () -> Bool
    let tag: UInt64
    let incoming = ReceivedMessage(capacity: 2)
    /// Frames of this ring that reached the data plane before this communicator existed
    /// (a faster peer's), handed over by `DataPlaneEndpoint`; read before the socket.
    var replay: [DataPlaneEndpoint.EarlyFrame]
    /// The payload of the replayed frame now being read, valid until the next receive.
    private var replayed = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Which call of this ring is running; every frame carries it.
    var sequence: UInt64 = 0
    var failure: CollectiveError?
    private var closed = false
    let logger = Logger(label: "orrery.collectives")
    let metrics = CollectiveMetrics()

    /// Largest piece of a buffer sent as one message; pieces let the next rank reduce one
    /// while the following one is still on the wire. Kept within 1...`maximumChunkElements`,
    /// since receivers drop a connection that sends a larger frame. 256 K floats (1 MB) by
    /// default: against 64 K and 16 K, between hosts at 10 Gbit/s and over ipc, up to 1.2×
    /// faster from 4 MB (fewer hand-offs to libzmq's I/O thread per byte); the ring cuts
    /// smaller segments finer (`ringPieceElements`).
    public var chunkElements = 256 * 1024 {
        didSet { chunkElements = min(max(1, chunkElements), Self.maximumChunkElements) }
    }
    /// The most floats one data-plane frame carries (`SocketPolicy.maximumChunkBytes`).
    public static let maximumChunkElements = Int(SocketPolicy.maximumChunkBytes) / MemoryLayout<Float>.size
    /// Buffers up to this many floats take the one-hop path (whole buffers exchanged, then
    /// summed in rank order) instead of the two-phase ring, whose 2(N−1) hops cost more than
    /// the bandwidth they save on small buffers.
    public var smallBufferElements = 16 * 1024
    /// Whether all-reduces may move their data through shared memory when every member is
    /// on this host. Set before the first all-reduce, identically on every rank.
    public var dataPath: DataPath = .automatic
    /// Floats per rank per staging slot of the shared-memory path: large buffers stream
    /// through the segment in blocks of this size, so it stays small and in cache. Nil
    /// chooses: 64 K floats when every rank has a core (measured best at 2 ranks on 2
    /// cores), 256 K when ranks share cores, where each of the fewer hand-offs between
    /// blocks costs a context switch.
    public var sharedMemoryBlockElements: Int?
    /// The shared-memory segment, once the members have agreed to use one.
    var exchange: SharedMemoryExchange?
    /// Whether the members have already agreed on a data path (on the first all-reduce).
    var dataPathChosen = false

    /// Connects to the neighbours named in `topology`, receiving on `dataPlane`.
    ///
    /// - Parameter isCancelled: checked while waiting, so that a cancelled task stops at once.
    public init(
        topology: RingTopology, dataPlane: DataPlaneEndpoint, context: ZMQContext,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(CollectiveError) {
        let operation = "connecting ring \(topology.collectiveID)"
        guard let receiver = dataPlane.borrow() else {
            throw CollectiveError(.transport("the data-plane socket is in use by another ring"), rank: topology.rank, operation: operation)
        }
        self.topology = topology
        self.receiver = receiver
        self.dataPlane = dataPlane
        self.isCancelled = isCancelled
        self.context = context
        self.tag = topology.tag
        let early = dataPlane.takeEarlyFrames()
        self.replay = early.filter { $0.header.ringTag == topology.tag }
        dataPlane.countDropped(early.count - replay.count)
        var toNext: Socket?
        var toPrevious: Socket?
        var monitors: [(SocketMonitor, Int)] = []
        do {
            if topology.worldSize > 1 {
                let next = try Self.connect(to: topology.next, of: topology, curve: dataPlane.curveKeyPair, context: context)
                monitors.append((try Self.watch(next, encrypted: dataPlane.curveKeyPair != nil, context: context), topology.next))
                toNext = next
                if topology.worldSize > 2 {
                    let previous = try Self.connect(to: topology.previous, of: topology, curve: dataPlane.curveKeyPair, context: context)
                    monitors.append((try Self.watch(previous, encrypted: dataPlane.curveKeyPair != nil, context: context), topology.previous))
                    toPrevious = previous
                } else {
                    toPrevious = next
                }
            }
        } catch {
            monitors.forEach { $0.0.close() }
            toNext?.close()
            toPrevious?.close()
            dataPlane.giveBack(receiver)
            throw CollectiveError(.transport("\(error)"), rank: topology.rank, operation: operation)
        }
        self.toNext = toNext
        self.toPrevious = toPrevious
        self.monitors = monitors
        poller = Poller([receiver] + monitors.map(\.0.socket))
    }

    deinit {
        close()
        replayed.deallocate()
    }

    public var rank: Int { topology.rank }
    public var worldSize: Int { topology.worldSize }
    /// True once the members have agreed to move all-reduce data through shared memory.
    public var usesSharedMemory: Bool { exchange != nil }

    /// Closes the neighbour sockets (queued frames still leave) and returns the receiving
    /// socket to the data plane. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        exchange = nil
        outgoingChannels = [:]
        incomingChannels = [:]
        for (monitor, _) in monitors { monitor.close() }
        for socket in otherPeers.values { socket.close() }
        toNext?.close()
        if topology.worldSize > 2 { toPrevious?.close() }
        dataPlane.giveBack(receiver)
    }

    /// Closes the sockets to the neighbours now, dropping what libzmq still queues for them
    /// (after a failure, when a ring's borrowed chunks must be released). Their monitors go
    /// first, as libzmq asks.
    func closeNeighbourSocketsNow() {
        for (monitor, _) in monitors { monitor.close() }
        monitors = []
        poller = Poller([receiver])
        // With two members the next and the previous rank are one socket.
        for socket in (topology.worldSize > 2 ? [toNext, toPrevious] : [toNext]).compactMap({ $0 }) {
            try? socket.setLinger(milliseconds: 0)
            socket.close()
        }
    }

    /// A sending socket to `member`'s data plane; a CURVE client of its key when the ring
    /// is encrypted.
    static func connect(to member: Int, of topology: RingTopology, curve: CurveKeyPair?, context: ZMQContext) throws(ZMQError) -> Socket {
        let socket = try Socket(context: context, kind: .push, policy: .dataPlaneSend)
        if let curve, topology.curveKeys.indices.contains(member) {
            try socket.makeCurveClient(curve, server: topology.curveKeys[member])
        }
        try socket.connect(topology.endpoints[member])
        return socket
    }

    /// A monitor of a socket to a member: its disconnection, and on an encrypted ring its
    /// refused handshakes, end the call naming that member.
    static func watch(_ socket: Socket, encrypted: Bool, context: ZMQContext) throws(ZMQError) -> SocketMonitor {
        try SocketMonitor(watching: socket, context: context, events: encrypted ? [.connections, .handshakes] : .connections)
    }

    // MARK: Calls

    /// Starts a call: checks that the ring is still usable and numbers the call.
    func begin(_ operation: String) throws(CollectiveError) -> CallContext {
        if let failure { throw CollectiveError(failure.kind, rank: failure.rank, operation: operation) }
        sequence += 1
        return CallContext(
            operation: operation, sequence: sequence,
            deadline: MonotonicClock.milliseconds + Int64(topology.timeoutMilliseconds))
    }

    /// One collective call in progress: its name for errors, its number and its deadline.
    struct CallContext {
        let operation: String
        let sequence: UInt64
        var deadline: Int64
        /// Whether the previous rank has sent anything in this call. A rank whose
        /// predecessor is alive but stuck should not blame it: on its deadline it waits a
        /// little longer for the abort of the rank that saw nothing at all.
        var heardFromPrevious = false
        var extended = false
    }

    /// Sends a chunk of `payload` floats to the next rank: copied into libzmq, or with
    /// `borrowing`, read by libzmq from where it lies (the caller then keeps the memory as it
    /// is until the tracker says libzmq released it).
    func sendChunk(
        step: Int, offset: Int, _ payload: UnsafeBufferPointer<Float>, call: CallContext, borrowing tracker: BorrowedSends? = nil
    ) throws(CollectiveError) {
        guard let toNext else { return }
        var frame = Orrery_V1_CollectiveFrame()
        frame.ringTag = tag
        frame.sender = UInt32(rank)
        frame.sequence = call.sequence
        var chunk = Orrery_V1_Chunk()
        chunk.step = UInt32(step)
        chunk.offset = UInt64(offset)
        frame.chunk = chunk
        let header: [UInt8] = (try? frame.serializedBytes()) ?? []
        let sendError = header.withUnsafeBytes { (headerBytes) -> String? in
            do {
                if let tracker {
                    try toNext.send(header: headerBytes, borrowing: UnsafeRawBufferPointer(payload), tracker: tracker)
                } else {
                    try toNext.send(raw: [headerBytes, UnsafeRawBufferPointer(payload)])
                }
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let sendError {
            // A refused handshake or a dead neighbour says more than the failed send (libzmq
            // has no connection left to queue to); its monitor event may be a moment behind,
            // and a failed call loses nothing by waiting for it briefly.
            for _ in 0..<10 {
                try checkNeighbours(call.operation)
                usleep(10_000)
            }
            throw fail(CollectiveError(.transport(sendError), rank: rank, operation: call.operation))
        }
    }

    /// Waits for the next chunk from the previous rank and checks that it is the expected one.
    ///
    /// - Returns: the chunk's floats, valid until the next receive.
    func receiveChunk(step: Int, offset: Int, count: Int, call: inout CallContext) throws(CollectiveError) -> UnsafeRawBufferPointer {
        let chunk = try receiveFrame(&call)
        call.heardFromPrevious = true
        let from = topology.previous
        guard case .chunk(let header)? = chunk.frame.body, chunk.frame.sender == UInt32(from) else {
            throw fail(CollectiveError(.protocolViolation("expected a chunk from rank \(from), got \(chunk.frame.body.map { "\($0)" } ?? "nothing") from rank \(chunk.frame.sender)"), rank: Int(chunk.frame.sender), operation: call.operation))
        }
        guard header.step == UInt32(step), header.offset == UInt64(offset), chunk.payload.count == count * 4 else {
            throw fail(CollectiveError(
                .protocolViolation("expected step \(step) at offset \(offset) with \(count) floats, got step \(header.step) at offset \(header.offset) with \(chunk.payload.count / 4) (do the ranks disagree about the buffer size?)"),
                rank: from, operation: call.operation))
        }
        return chunk.payload
    }

    /// The next frame of this ring and call, dropping frames of other rings and keeping
    /// point-to-point messages for later; fails on an abort, a disconnected neighbour,
    /// cancellation or the deadline.
    private func receiveFrame(_ call: inout CallContext) throws(CollectiveError) -> (frame: Orrery_V1_CollectiveFrame, payload: UnsafeRawBufferPointer) {
        while !replay.isEmpty {
            let next = replay.removeFirst()
            replayed.deallocate()
            replayed = .allocate(byteCount: next.payload.count, alignment: MemoryLayout<Float>.alignment)
            replayed.copyBytes(from: next.payload)
            if let frame = try decodeCurrent(next.header, UnsafeRawBufferPointer(replayed), call) {
                return (frame, UnsafeRawBufferPointer(replayed))
            }
        }
        while true {
            var remaining = call.deadline - MonotonicClock.milliseconds
            if remaining <= 0 && call.heardFromPrevious && !call.extended {
                call.extended = true
                call.deadline += Int64(max(200, topology.timeoutMilliseconds / 4))
                remaining = call.deadline - MonotonicClock.milliseconds
            }
            if remaining <= 0 {
                throw fail(CollectiveError(.timedOut(milliseconds: topology.timeoutMilliseconds), rank: topology.previous, operation: call.operation))
            }
            guard let (header, payload) = try pollFrame(waitingAtMost: remaining, operation: call.operation) else { continue }
            if let frame = try decodeCurrent(header, payload, call) { return (frame, payload) }
        }
    }

    /// One frame of this ring from the socket, or nil when none came within
    /// `waitingAtMost` milliseconds (at most 100, so that cancellation and dead neighbours
    /// are noticed); frames of other rings and non-frames are dropped and counted.
    func pollFrame(waitingAtMost remaining: Int64, operation: String) throws(CollectiveError) -> (Orrery_V1_CollectiveFrame, UnsafeRawBufferPointer)? {
        let got: Bool
        do {
            got = try receiver.receive(into: incoming, wait: false)
        } catch {
            throw fail(CollectiveError(.transport("\(error)"), rank: rank, operation: operation))
        }
        if got {
            guard let frame = DataPlaneEndpoint.header(of: incoming), frame.ringTag == tag else {
                dataPlane.countDropped(1)
                logger.debug("dropped a frame that is not of this ring")
                return nil
            }
            return (frame, incoming.count > 1 ? incoming.frame(1) : UnsafeRawBufferPointer(start: nil, count: 0))
        }
        try checkNeighbours(operation)
        if isCancelled() { throw fail(CollectiveError(.cancelled, rank: rank, operation: operation)) }
        do {
            _ = try poller.poll(timeoutMilliseconds: Int(min(max(remaining, 0), 100)))
        } catch {
            throw fail(CollectiveError(.transport("\(error)"), rank: rank, operation: operation))
        }
        return nil
    }

    /// The frame just received if it belongs to this call; nil for a stale one (another
    /// ring's, or an earlier call's) or a point-to-point message, which is kept in the
    /// mailbox for whoever asks for it. An abort of this ring throws.
    private func decodeCurrent(_ header: Orrery_V1_CollectiveFrame?, _ payload: UnsafeRawBufferPointer, _ call: CallContext) throws(CollectiveError) -> Orrery_V1_CollectiveFrame? {
        guard let frame = header, frame.ringTag == tag else {
            dataPlane.countDropped(1)
            logger.debug("dropped a frame that is not of this ring")
            return nil
        }
        switch frame.body {
        case .abort(let abort)?:
            throw fail(abortError(frame, abort, operation: call.operation), forwardingFrom: Int(frame.sender))
        case .peer(let piece)?:
            try keep(piece, from: frame.sender, payload, operation: call.operation)
            return nil
        default:
            break
        }
        guard frame.sequence == call.sequence else {
            if frame.sequence < call.sequence { return nil }  // a call this rank already gave up on
            throw fail(CollectiveError(
                .protocolViolation("frame of call #\(frame.sequence) during call #\(call.sequence)"), rank: Int(frame.sender), operation: call.operation))
        }
        return frame
    }

    /// The error an abort frame reports.
    func abortError(_ frame: Orrery_V1_CollectiveFrame, _ abort: Orrery_V1_Abort, operation: String) -> CollectiveError {
        CollectiveError(.aborted(reportedBy: Int(frame.sender), reason: abort.reason), rank: Int(abort.failedRank), operation: operation)
    }

    /// Fails if a member this rank has a connection to has hung up.
    func checkNeighbours(_ operation: String) throws(CollectiveError) {
        for (monitor, peer) in monitors {
            while let event = try? monitor.next() {
                switch event {
                case .disconnected:
                    throw fail(CollectiveError(.peerDisconnected, rank: peer, operation: operation))
                case .handshakeFailed(_, let refused):
                    let why = refused ? "it refused this member's CURVE key (not in its allow-list)" : "the CURVE handshake failed (keys disagree)"
                    throw fail(CollectiveError(.transport(why), rank: peer, operation: operation))
                default:
                    continue
                }
            }
        }
    }

    /// Records the ring as failed and tells the neighbours (except the one that told this
    /// rank), so that they stop too. Returns the error to throw.
    func fail(_ error: CollectiveError, forwardingFrom source: Int? = nil) -> CollectiveError {
        guard failure == nil else { return error }
        failure = error
        metrics.recordFailure(error)
        if case .cancelled = error.kind { return error }
        exchange?.abort(failedRank: error.rank, cause: SharedMemoryExchange.AbortCause(error.kind))
        var abort = Orrery_V1_Abort()
        abort.failedRank = UInt32(error.rank)
        if case .aborted(_, let reason) = error.kind { abort.reason = reason } else { abort.reason = error.description }
        var frame = Orrery_V1_CollectiveFrame()
        frame.ringTag = tag
        frame.sender = UInt32(rank)
        frame.sequence = sequence
        frame.abort = abort
        let bytes: [UInt8] = (try? frame.serializedBytes()) ?? []
        let targets: [(Socket?, Int)] = [(toNext, topology.next), (toPrevious, topology.previous)] + otherPeers.sorted { $0.key < $1.key }.map { ($0.value, $0.key) }
        var told = Set<Int>()
        for (socket, peer) in targets where peer != source && peer != error.rank && !told.contains(peer) {
            told.insert(peer)
            try? socket?.send([bytes])
        }
        logger.warning("collective failed", metadata: ["rank": "\(rank)", "error": "\(error)"])
        return error
    }
}
