@testable import Collectives
import Foundation
import Messaging
import Testing
import Wire

/// Point-to-point messages (a pipeline's activations and gradients) and the group sum built
/// on them, between threads of this process over real loopback sockets.
@Suite("Point-to-point messages", .serialized)
struct PointToPointTests {
    @Test("messages arrive whole and by key, whatever order they are asked for in, across pieces")
    func outOfOrder() throws {
        let ring = try RingHarness(members: 3)
        let results = ring.run(configure: { $0.chunkElements = 1_000 }) { communicator -> [[Float]] in
            switch communicator.rank {
            case 0:
                for key in UInt64(1)...5 { try communicator.send(input(rank: Int(key), count: 2_500 * Int(key)), to: 2, key: key) }
                try communicator.send([], to: 1, key: 9)
                return []
            case 1:
                return [try communicator.receive(from: 0, key: 9, count: 0)]
            default:
                return try (UInt64(1)...5).reversed().map { key in try communicator.receive(from: 0, key: key, count: 2_500 * Int(key)) }
            }
        }
        #expect(try results[1].get() == [[]])
        let received = try results[2].get()
        for (index, key) in (1...5).reversed().enumerated() {
            #expect(received[index] == input(rank: key, count: 2_500 * key), "message \(key)")
        }
    }

    @Test("messages and numbered collectives interleave in either order without confusing each other")
    func interleaved() throws {
        let ring = try RingHarness(members: 2)
        let results = ring.run { communicator -> [Float] in
            var buffer = [Float](repeating: Float(communicator.rank + 1), count: 40_000)
            if communicator.rank == 0 {
                try communicator.send([7, 8, 9], to: 1, key: 42)  // read by rank 1 after the all-reduce
                try communicator.allReduce(&buffer)
                let back = try communicator.receive(from: 1, key: 43, count: 2)  // sent before rank 1's second all-reduce
                try communicator.allReduce(&buffer)
                return back + [buffer[0], buffer[39_999]]
            } else {
                try communicator.allReduce(&buffer)
                let early = try communicator.receive(from: 0, key: 42, count: 3)
                try communicator.send([5, 6], to: 0, key: 43)
                try communicator.allReduce(&buffer)
                return early + [buffer[0]]
            }
        }
        #expect(try results[0].get() == [5, 6, 6, 6])
        #expect(try results[1].get() == [7, 8, 9, 6])
    }

    @Test("a group sum over replicas that are not ring neighbours equals the sequential sum, bit for bit on every member")
    func groupSum() throws {
        let ring = try RingHarness(members: 4)
        let count = 30_001
        let results = ring.run { communicator -> [Float] in
            var buffer = input(rank: communicator.rank, count: count)
            let group = communicator.rank % 2 == 0 ? [0, 2] : [1, 3]
            if communicator.rank >= 2 { try communicator.openSharedChannels(with: [communicator.rank - 2]) }
            if communicator.rank < 2 { try communicator.openSharedChannels(with: [communicator.rank + 2]) }
            try communicator.allReduce(&buffer, among: group, key: 77)
            return buffer
        }
        for group in [[0, 2], [1, 3]] {
            var expected = input(rank: group[0], count: count)
            let other = input(rank: group[1], count: count)
            for index in expected.indices { expected[index] += other[index] }
            for member in group { #expect(try results[member].get() == expected, "member \(member)") }
        }
    }

    @Test("between members on one host, messages go through shared memory: whole, by key, both ways at once, and the names leave /dev/shm",
          arguments: DataPath.allCases)
    func sharedChannels(path: DataPath) throws {
        let ring = try RingHarness(members: 3)
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
        let results = ring.run(configure: { $0.dataPath = path }) { communicator -> [Float] in
            let peers = [0, 1, 2].filter { $0 != communicator.rank }
            try communicator.openSharedChannels(with: peers, slots: 2, slotElements: 1_000)
            let shared = peers.map { communicator.sendsThroughSharedMemory(to: $0) ? Float(1) : 0 }
            // Everyone sends everyone 5 messages of up to 9 slots' worth before reading any:
            // a sender waits for slots while it empties its own channels.
            for key in UInt64(1)...5 {
                for peer in peers { try communicator.send(input(rank: communicator.rank * 10 + Int(key), count: 1_800 * Int(key)), to: peer, key: key) }
            }
            var matches: Float = 0
            for key in UInt64(1)...5 {
                for peer in peers.reversed() {
                    let got = try communicator.receive(from: peer, key: key, count: 1_800 * Int(key))
                    matches += got == input(rank: peer * 10 + Int(key), count: 1_800 * Int(key)) ? 1 : 0
                }
            }
            return shared + [matches]
        }
        for rank in 0..<3 {
            let result = try results[rank].get()
            #expect(result == (path == .automatic ? [1, 1, 10] : [0, 0, 10]), "rank \(rank): \(result)")
        }
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
        #expect(after.subtracting(before).filter { $0.hasPrefix("orrery-p2p") }.isEmpty)
    }

    @Test("a member that dies while another waits on its shared-memory channel is named")
    func sharedChannelDeath() throws {
        let ring = try RingHarness(members: 2)
        let results = ring.run(timeoutMilliseconds: 20_000) { communicator -> String in
            try communicator.openSharedChannels(with: [1 - communicator.rank])
            if communicator.rank == 1 {
                communicator.close()
                ring.endpoints[1].close()
                return "left"
            }
            _ = try communicator.receive(from: 1, key: 5, count: 1)
            return "finished"
        }
        guard case .failure(let error as CollectiveError) = results[0] else {
            Issue.record("rank 0: expected a collective error, got \(results[0])")
            return
        }
        #expect(error.rank == 1, "\(error)")
    }

    @Test("a member that never sends is named within the deadline")
    func silentSender() throws {
        let ring = try RingHarness(members: 3)
        let started = Date()
        let results = ring.run(timeoutMilliseconds: 500, ranks: [0, 1]) { communicator -> [Float] in
            try communicator.receive(from: communicator.rank == 0 ? 2 : 0, key: 1, count: 4)
        }
        #expect(Date().timeIntervalSince(started) < 5)
        guard case .failure(let error as CollectiveError) = results[0] else {
            Issue.record("rank 0: expected a collective error, got \(results[0])")
            return
        }
        #expect(error.rank == 2, "\(error)")
        #expect(error.blamesPeer)
    }

    @Test("a member whose endpoint goes away is named as disconnected by one waiting on it")
    func disconnectedSender() throws {
        let ring = try RingHarness(members: 4)
        let results = ring.run(timeoutMilliseconds: 20_000) { communicator -> String in
            // 0 and 2 are not ring neighbours: the connection is opened by `connect(to:)`.
            try communicator.connect(to: communicator.rank == 0 ? [2] : [0])
            try communicator.barrier()
            if communicator.rank == 2 {
                communicator.close()
                ring.endpoints[2].close()
                return "left"
            }
            if communicator.rank == 0 { _ = try communicator.receive(from: 2, key: 5, count: 1) }
            return "finished"
        }
        #expect(try results[2].get() == "left")
        guard case .failure(let error as CollectiveError) = results[0] else {
            Issue.record("rank 0: expected a collective error, got \(results[0])")
            return
        }
        #expect(error.rank == 2, "\(error)")
    }

    @Test("a message of the wrong size is refused naming its sender")
    func wrongSize() throws {
        let ring = try RingHarness(members: 2)
        let results = ring.run(timeoutMilliseconds: 5_000) { communicator -> [Float] in
            if communicator.rank == 0 {
                try communicator.send([1, 2, 3], to: 1, key: 3)
                return []
            }
            return try communicator.receive(from: 0, key: 3, count: 4)
        }
        guard case .failure(let error as CollectiveError) = results[1], case .protocolViolation(let detail) = error.kind else {
            Issue.record("expected a protocol violation, got \(results[1])")
            return
        }
        #expect(error.rank == 0 && detail.contains("3 floats, 4 expected"), "\(error)")
    }

    @Test("hostile pieces on the socket fail the receiving member, naming the sender, before anything is allocated",
          arguments: [(10, 5), (0, 1 << 40), (0, 3)])
    func hostilePieces(offset: Int, total: Int) throws {
        let ring = try RingHarness(members: 2)
        let id = UUID().uuidString
        // A forged piece from "rank 0" straight to rank 1's endpoint: 4 floats at `offset`
        // of a message of `total`.
        let forger = try Socket(context: ring.context, kind: .push, policy: .dataPlaneSend)
        defer { forger.close() }
        try forger.connect(ring.endpoints[1].endpoint)
        var frame = Orrery_V1_CollectiveFrame()
        frame.ringTag = ring.topology(rank: 0, id: id).tag
        frame.sender = 0
        var piece = Orrery_V1_PeerMessage()
        (piece.key, piece.offset, piece.total) = (1, UInt64(offset), UInt64(total))
        frame.peer = piece
        try forger.send([try frame.serializedBytes(), [UInt8](repeating: 0, count: 16)], wait: true)
        let results = ring.run(id: id, timeoutMilliseconds: 5_000, ranks: [1]) { communicator -> [Float] in
            try communicator.receive(from: 0, key: 1, count: 4)
        }
        guard case .failure(let error as CollectiveError) = results[0], case .protocolViolation = error.kind else {
            Issue.record("expected a protocol violation, got \(results[0])")
            return
        }
        #expect(error.rank == 0, "\(error)")
    }

    @Test("the mailbox refuses pieces that contradict their message or exceed its limits, before allocating")
    func mailboxRules() throws {
        var mailbox = PeerMailbox()
        mailbox.limitElements = 100
        let four: [Float] = [1, 2, 3, 4]
        try four.withUnsafeBytes { bytes in
            try mailbox.store(sender: 1, key: 1, offset: 0, total: 8, bytes)
            #expect(mailbox.take(sender: 1, key: 1) == nil, "half a message is not taken")
            #expect(throws: MailboxError.self) { try mailbox.store(sender: 1, key: 1, offset: 0, total: 9, bytes) }
            #expect(throws: MailboxError.self) { try mailbox.store(sender: 1, key: 2, offset: 6, total: 8, bytes) }
            #expect(throws: MailboxError.self) { try mailbox.store(sender: 1, key: 3, offset: 0, total: 1 << 40, bytes) }
            #expect(throws: MailboxError.self) { try mailbox.store(sender: 2, key: 1, offset: 0, total: 200, bytes) }
            try mailbox.store(sender: 1, key: 1, offset: 4, total: 8, bytes)
            #expect(throws: MailboxError.self) { try mailbox.store(sender: 3, key: 1, offset: 0, total: 4, UnsafeRawBufferPointer(rebasing: bytes[0..<3])) }
        }
        #expect(mailbox.take(sender: 1, key: 1) == four + four)
        #expect(mailbox.take(sender: 1, key: 1) == nil)
    }
}
