import Runtime

/// Point-to-point messages through shared memory between members on one host
/// (`PeerChannel`), agreed on once per communicator and used by `send` and `receive`
/// whenever one exists; ZeroMQ stays for members on other hosts, for set-up and aborts.
extension Communicator {
    /// Keys with this top byte are the communicator's own (the channel handshake).
    static let reservedKeys: UInt64 = 0xFF << 56
    private static let channelNameKey = reservedKeys | 1
    private static let channelAnswerKey = reservedKeys | 2
    /// Floats a channel's name travels in (64 bytes).
    private static let nameFloats = 16

    /// Agrees with each of `peers` (who must call this with this rank among theirs) on a
    /// channel each way: each member makes a segment for what it sends to a peer on this
    /// host and sends its name; the peer maps it and answers; a channel is used only once
    /// its receiver has mapped it, and its name is removed from /dev/shm then, so no segment
    /// outlives the communicator. A segment that cannot be made or mapped leaves that
    /// direction on ZeroMQ. Nothing happens when `dataPath` is `.ring`.
    public func openSharedChannels(with peers: [Int], slots: Int = 4, slotElements: Int = 128 * 1024) throws(CollectiveError) {
        guard dataPath == .automatic else { return }
        let others = Array(Set(peers)).filter { $0 != rank }.sorted()
        var made: [Int: (name: String, channel: PeerChannel)] = [:]
        defer { for (name, _) in made.values { SharedMemorySegment.unlink(name: name) } }
        for peer in others {
            var name = ""
            if topology.isOnThisHost(peer) {
                name = "/orrery-p2p-\(String(tag, radix: 16))-\(rank)-\(peer)-\(Int.random(in: 0..<(1 << 30)))"
                do {
                    made[peer] = (name, try PeerChannel.create(name: name, slots: slots, slotElements: slotElements))
                } catch {
                    logger.info("no shared memory to rank \(peer); using ZeroMQ", metadata: ["error": "\(error)"])
                    name = ""
                }
            }
            try send(Self.encode(name), to: peer, key: Self.channelNameKey)
        }
        for peer in others {
            let name = Self.decode(try receive(from: peer, key: Self.channelNameKey, count: Self.nameFloats))
            var mapped = false
            if !name.isEmpty, name.hasPrefix("/orrery-p2p-"), let channel = try? PeerChannel.open(name: name, slots: slots, slotElements: slotElements) {
                incomingChannels[peer] = channel
                mapped = true
            }
            try send([mapped ? 1 : 0], to: peer, key: Self.channelAnswerKey)
        }
        for peer in others {
            let answer = try receive(from: peer, key: Self.channelAnswerKey, count: 1)
            if answer[0] == 1, let channel = made[peer]?.channel { outgoingChannels[peer] = channel }
        }
    }

    /// Whether messages to `peer` go through shared memory.
    public func sendsThroughSharedMemory(to peer: Int) -> Bool { outgoingChannels[peer] != nil }

    /// `send` through a channel: pieces of at most a slot, waiting for a free slot when the
    /// receiver is behind — and meanwhile emptying this member's own incoming channels, so
    /// that two members sending to each other never wait on each other.
    func send(_ values: UnsafeBufferPointer<Float>, through channel: PeerChannel, to peer: Int, key: UInt64, operation: String) throws(CollectiveError) {
        let deadline = MonotonicClock.milliseconds + Int64(topology.timeoutMilliseconds)
        var offset = 0
        repeat {
            let count = min(channel.slotElements, values.count - offset)
            let piece = UnsafeBufferPointer(rebasing: values[offset..<(offset + count)])
            while !channel.write(key: key, offset: offset, total: values.count, piece) {
                try drainChannels(operation: operation)
                Self.sleep(on: channel.read, flag: channel.senderSleeps, while: { channel.pending >= channel.slots })
                try takeSocketFrames(waitingAtMost: 0, operation: operation)
                if MonotonicClock.milliseconds >= deadline {
                    throw fail(CollectiveError(.timedOut(milliseconds: topology.timeoutMilliseconds), rank: peer, operation: operation))
                }
            }
            offset += count
        } while offset < values.count
    }

    /// Moves every piece waiting in an incoming channel into the mailbox.
    func drainChannels(operation: String) throws(CollectiveError) {
        for (peer, channel) in incomingChannels {
            while try channel.readPiece({ (key, offset, total, payload) throws(CollectiveError) in
                do throws(MailboxError) {
                    try mailbox.store(sender: peer, key: key, offset: offset, total: total, payload)
                } catch {
                    throw fail(CollectiveError(.protocolViolation(error.message), rank: peer, operation: operation))
                }
            }) {}
        }
    }

    /// Sleeps on `word` (at most one slice) while `condition` holds, with `flag` raised so
    /// that the other side knows to wake it.
    static func sleep(on word: SharedWord, flag: SharedWord, while condition: () -> Bool) {
        flag.store(1)
        let seen = word.load()
        if condition() { word.wait(whileEqualTo: seen, microseconds: sleepSliceMicroseconds) }
        flag.store(0)
    }

    private static func encode(_ name: String) -> [Float] {
        var bytes = Array(name.utf8.prefix(nameFloats * 4))
        bytes += [UInt8](repeating: 0, count: nameFloats * 4 - bytes.count)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    private static func decode(_ floats: [Float]) -> String {
        let bytes = floats.flatMap { value -> [UInt8] in
            let bits = value.bitPattern
            return [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
