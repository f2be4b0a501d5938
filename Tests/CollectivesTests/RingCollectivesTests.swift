import Collectives
import Foundation
import Messaging
import Testing
import Wire

@Suite("All-gather, broadcast, barrier, stale frames", .serialized)
struct RingCollectivesTests {
    @Test("all-gather concatenates every rank's block in rank order", arguments: [1, 2, 4])
    func allGather(members: Int) throws {
        let ring = try RingHarness(members: members)
        let results = ring.run(configure: { $0.chunkElements = 100 }) { communicator in
            try communicator.allGather(input(rank: communicator.rank, count: 333))
        }
        let expected = (0..<members).flatMap { input(rank: $0, count: 333) }
        for result in results { #expect(try result.get() == expected) }
    }

    @Test("broadcast gives every rank the root's buffer", arguments: [0, 2])
    func broadcast(root: Int) throws {
        let ring = try RingHarness(members: 3)
        let results = ring.run(configure: { $0.chunkElements = 1_000 }) { communicator in
            var buffer = input(rank: communicator.rank, count: 10_001)
            try communicator.broadcast(&buffer, root: root)
            return buffer
        }
        for result in results { #expect(try result.get() == input(rank: root, count: 10_001)) }
    }

    @Test("a barrier holds every rank until the last one arrives")
    func barrier() throws {
        let ring = try RingHarness(members: 3)
        let results = ring.run { communicator in
            if communicator.rank == 2 { Thread.sleep(forTimeInterval: 0.3) }
            let started = Date()
            try communicator.barrier()
            return Date().timeIntervalSince(started)
        }
        let waits = try results.map { try $0.get() }
        #expect(waits[0] > 0.2 && waits[1] > 0.2, "ranks 0 and 1 waited \(waits)")
    }

    @Test("a member that never shows up fails the others within the deadline, naming it")
    func silentMember() throws {
        let ring = try RingHarness(members: 3)
        let started = Date()
        let results = ring.run(timeoutMilliseconds: 600, ranks: [0, 1]) { communicator in
            var buffer = [Float](repeating: 1, count: 50_000)
            try communicator.allReduce(&buffer)
        }
        #expect(Date().timeIntervalSince(started) < 5)
        for result in results {
            guard case .failure(let error as CollectiveError) = result else {
                Issue.record("expected a collective error, got \(result)")
                continue
            }
            #expect(error.rank == 2, "\(error)")
            #expect(error.blamesPeer)
        }
    }

    @Test("a member whose endpoint goes away is reported as disconnected by its neighbours", arguments: DataPath.allCases)
    func disconnectedMember(path: DataPath) throws {
        let ring = try RingHarness(members: 3)
        let results = ring.run(timeoutMilliseconds: 20_000, configure: { $0.configure(path) }) { communicator in
            var buffer = [Float](repeating: 1, count: 1_000)
            try communicator.allReduce(&buffer)
            if communicator.rank == 1 {
                communicator.close()
                ring.endpoints[1].close()
                return "left"
            }
            Thread.sleep(forTimeInterval: 0.2)
            try communicator.allReduce(&buffer)
            return "finished"
        }
        #expect(try results[1].get() == "left")
        for rank in [0, 2] {
            guard case .failure(let error as CollectiveError) = results[rank] else {
                Issue.record("rank \(rank): expected a collective error, got \(results[rank])")
                continue
            }
            #expect(error.rank == 1, "rank \(rank): \(error)")
        }
    }

    @Test("a member that stops calling after shared memory is set up is named by the others within the deadline", arguments: [3_000, 200_000])
    func sharedMemoryStraggler(count: Int) throws {
        let ring = try RingHarness(members: 3)
        let started = Date()
        let results = ring.run(timeoutMilliseconds: 600, configure: { $0.configure(.automatic) }) { communicator in
            var buffer = [Float](repeating: 1, count: count)
            try communicator.allReduce(&buffer)
            #expect(communicator.usesSharedMemory)
            if communicator.rank == 2 {
                Thread.sleep(forTimeInterval: 1.5)  // alive, connected, silent
                return
            }
            try communicator.allReduce(&buffer)
        }
        #expect(Date().timeIntervalSince(started) < 5)
        for rank in [0, 1] {
            guard case .failure(let error as CollectiveError) = results[rank] else {
                Issue.record("rank \(rank): expected a collective error, got \(results[rank])")
                continue
            }
            #expect(error.rank == 2, "rank \(rank): \(error)")
            #expect(error.blamesPeer)
        }
    }

    @Test("the shared-memory segment's name is gone from /dev/shm once the ring has agreed on it")
    func sharedMemoryLeavesNothing() throws {
        let ring = try RingHarness(members: 2)
        let id = "leaves-nothing-\(UUID().uuidString)"
        let prefix = "orrery-\(String(RingTopology(rank: 0, endpoints: ["x"], collectiveID: id).tag, radix: 16))-"
        @Sendable func left() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix(prefix) }
        }
        let results = ring.run(id: id, configure: { $0.configure(.automatic) }) { communicator in
            var buffer = [Float](repeating: 1, count: 100)
            try communicator.allReduce(&buffer)
            try communicator.barrier()
            return (communicator.usesSharedMemory, left(), buffer[0])
        }
        for result in results {
            let (shared, names, value) = try result.get()
            #expect(shared)
            #expect(names.isEmpty, "still in /dev/shm during the ring: \(names)")
            #expect(value == 2)
        }
        #expect(left().isEmpty)
    }

    @Test("frames left over from an earlier ring are dropped")
    func staleFramesDropped() throws {
        let ring = try RingHarness(members: 2)
        // A frame tagged for another ring, sent straight to rank 1's endpoint.
        let stray = try Socket(context: ring.context, kind: .push, policy: .dataPlaneSend)
        try stray.connect(ring.endpoints[1].endpoint)
        var frame = Orrery_V1_CollectiveFrame()
        frame.ringTag = RingTopology(rank: 0, endpoints: ["x"], collectiveID: "an-old-ring").tag
        frame.sender = 0
        frame.sequence = 1
        var chunk = Orrery_V1_Chunk()
        chunk.step = 0
        frame.chunk = chunk
        try stray.send([try frame.serializedBytes(), [UInt8](repeating: 0xFF, count: 4 * 4)], wait: true)
        Thread.sleep(forTimeInterval: 0.1)
        let results = ring.run(id: "the-new-ring") { communicator in
            var buffer = [Float](repeating: Float(communicator.rank + 1), count: 4)
            try communicator.allReduce(&buffer)
            return buffer
        }
        for result in results { #expect(try result.get() == [3, 3, 3, 3]) }
        stray.close()
    }
}
