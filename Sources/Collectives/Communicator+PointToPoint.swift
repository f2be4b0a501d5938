import Messaging
import Runtime
import Wire

/// Point-to-point messages between any two members of a communicator: what a pipeline's
/// stages send each other (activations forward, gradients back) and what a group smaller
/// than the ring reduces with.
///
/// They follow the collectives' rules — every wait has the ring's deadline, a member whose
/// connection closes is named, an abort stops every member that hears it — but are not
/// numbered calls: a message is named by a 64-bit key the two sides agree on, may arrive
/// before it is asked for (it is kept, `PeerMailbox`), and may interleave with numbered
/// calls in either direction (each side keeps what belongs to the other).
extension Communicator {
    /// Opens connections to `ranks` now rather than at the first message, so that a member
    /// that dies before sending anything is still noticed as disconnected, not only by the
    /// deadline. Ranks already connected, and this rank, are skipped.
    public func connect(to ranks: [Int]) throws(CollectiveError) {
        for peer in ranks where peer != rank {
            _ = try socket(to: peer, operation: "connecting to rank \(peer)")
        }
    }

    /// Sends `values` to `peer` as message `key`, in pieces of at most `chunkElements`
    /// floats. Returns once queued (sends never block on the receiver).
    public func send(_ values: UnsafeBufferPointer<Float>, to peer: Int, key: UInt64) throws(CollectiveError) {
        let operation = "sending message 0x\(String(key, radix: 16)) to rank \(peer)"
        if let failure { throw CollectiveError(failure.kind, rank: failure.rank, operation: operation) }
        guard topology.endpoints.indices.contains(peer), peer != rank else {
            throw CollectiveError(.protocolViolation("no rank \(peer) to send to in a ring of \(worldSize)"), rank: rank, operation: operation)
        }
        if let channel = outgoingChannels[peer] {
            try send(values, through: channel, to: peer, key: key, operation: operation)
            return
        }
        let target = try socket(to: peer, operation: operation)
        var offset = 0
        repeat {
            let count = min(chunkElements, values.count - offset)
            var frame = Orrery_V1_CollectiveFrame()
            frame.ringTag = tag
            frame.sender = UInt32(rank)
            var piece = Orrery_V1_PeerMessage()
            piece.key = key
            piece.offset = UInt64(offset)
            piece.total = UInt64(values.count)
            frame.peer = piece
            let header: [UInt8] = (try? frame.serializedBytes()) ?? []
            let body = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: values[offset..<(offset + count)]))
            let sendError = header.withUnsafeBytes { (headerBytes) -> String? in
                do {
                    try target.send(raw: count > 0 ? [headerBytes, body] : [headerBytes])
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            if let sendError { throw fail(CollectiveError(.transport(sendError), rank: rank, operation: operation)) }
            offset += count
        } while offset < values.count
    }

    /// `send` of an array.
    public func send(_ values: [Float], to peer: Int, key: UInt64) throws(CollectiveError) {
        try values.withUnsafeBufferPointer { (buffer) throws(CollectiveError) in try send(buffer, to: peer, key: key) }
    }

    /// Waits for message `key` from `peer`, which must have `count` floats. Messages for
    /// other keys are kept for later, frames of numbered calls are kept for the next call.
    /// - Throws: `timedOut` naming `peer` after the ring's deadline; `peerDisconnected`,
    ///   `aborted`, `cancelled` as collectives do; `protocolViolation` for a wrong size.
    public func receive(from peer: Int, key: UInt64, count: Int) throws(CollectiveError) -> [Float] {
        let operation = "receiving message 0x\(String(key, radix: 16)) from rank \(peer)"
        if let failure { throw CollectiveError(failure.kind, rank: failure.rank, operation: operation) }
        try sortKeptFrames(operation: operation)
        let deadline = MonotonicClock.milliseconds + Int64(topology.timeoutMilliseconds)
        while true {
            try drainChannels(operation: operation)
            if let values = mailbox.take(sender: peer, key: key) {
                guard values.count == count else {
                    throw fail(CollectiveError(
                        .protocolViolation("message \(key) has \(values.count) floats, \(count) expected (do the members disagree about the model or batch?)"),
                        rank: peer, operation: operation))
                }
                return values
            }
            let remaining = deadline - MonotonicClock.milliseconds
            if remaining <= 0 {
                throw fail(CollectiveError(.timedOut(milliseconds: topology.timeoutMilliseconds), rank: peer, operation: operation))
            }
            if let channel = incomingChannels[peer] {
                // The message comes through shared memory: sleep on the channel a slice,
                // then take what the socket holds (aborts, others' messages) without waiting.
                Self.sleep(on: channel.written, flag: channel.receiverSleeps, while: { channel.pending == 0 })
                try takeSocketFrames(waitingAtMost: 0, operation: operation)
            } else {
                // Channels from other members are drained between short polls.
                try takeSocketFrames(waitingAtMost: incomingChannels.isEmpty ? remaining : min(remaining, 5), operation: operation)
            }
        }
    }

    /// Handles frames waiting on the socket (after waiting up to `waitingAtMost` ms for the
    /// first): pieces go to the mailbox, an abort fails, a numbered call's frame from a
    /// member already there is kept for that call.
    func takeSocketFrames(waitingAtMost wait: Int64, operation: String) throws(CollectiveError) {
        var budget = wait
        while let (frame, payload) = try pollFrame(waitingAtMost: budget, operation: operation) {
            budget = 0
            switch frame.body {
            case .peer(let piece)?:
                try keep(piece, from: frame.sender, payload, operation: operation)
            case .abort(let abort)?:
                throw fail(abortError(frame, abort, operation: operation), forwardingFrom: Int(frame.sender))
            default:
                replay.append(DataPlaneEndpoint.EarlyFrame(header: frame, payload: Array(payload)))
            }
        }
    }

    /// Puts one received piece in the mailbox; a piece that breaks the rules fails the ring,
    /// naming its sender.
    func keep(_ piece: Orrery_V1_PeerMessage, from sender: UInt32, _ payload: UnsafeRawBufferPointer, operation: String) throws(CollectiveError) {
        guard Int(sender) < worldSize else {
            throw fail(CollectiveError(.protocolViolation("a message from rank \(sender), outside a ring of \(worldSize)"), rank: rank, operation: operation))
        }
        do {
            try mailbox.store(sender: Int(sender), key: piece.key, offset: piece.offset, total: piece.total, payload)
        } catch {
            throw fail(CollectiveError(.protocolViolation(error.message), rank: Int(sender), operation: operation))
        }
    }

    /// Moves point-to-point pieces among the frames kept from before this communicator
    /// (or deferred by an earlier receive) into the mailbox; the rest stay for numbered calls.
    private func sortKeptFrames(operation: String) throws(CollectiveError) {
        guard replay.contains(where: { if case .peer? = $0.header.body { true } else { false } }) else { return }
        var rest: [DataPlaneEndpoint.EarlyFrame] = []
        for kept in replay {
            guard case .peer(let piece)? = kept.header.body else {
                rest.append(kept)
                continue
            }
            var problem: CollectiveError?
            kept.payload.withUnsafeBytes { bytes in
                do throws(CollectiveError) { try keep(piece, from: kept.header.sender, bytes, operation: operation) } catch { problem = error }
            }
            if let problem { throw problem }
        }
        replay = rest
    }

    /// The socket to `peer`: a neighbour's, or one opened (and watched for disconnection)
    /// on first use.
    private func socket(to peer: Int, operation: String) throws(CollectiveError) -> Socket {
        if peer == topology.next, let toNext { return toNext }
        if peer == topology.previous, let toPrevious { return toPrevious }
        if let open = otherPeers[peer] { return open }
        do {
            let opened = try Self.connect(to: peer, of: topology, curve: dataPlane.curveKeyPair, context: context)
            let monitor: SocketMonitor
            do { monitor = try Self.watch(opened, encrypted: dataPlane.curveKeyPair != nil, context: context) } catch {
                opened.close()
                throw error
            }
            otherPeers[peer] = opened
            monitors.append((monitor, peer))
            poller = Poller([receiver] + monitors.map(\.monitor.socket))
            return opened
        } catch {
            throw fail(CollectiveError(.transport("\(error)"), rank: rank, operation: operation))
        }
    }
}
