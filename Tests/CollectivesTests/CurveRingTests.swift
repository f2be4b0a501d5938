import Collectives
import Foundation
import Messaging
import Testing

@Suite("Encrypted rings (CURVE data planes)", .serialized)
struct CurveRingTests {
    @Test("over CURVE the ring's sum equals the sequential sum; point-to-point messages arrive intact", arguments: [2, 3])
    func encryptedRingSums(members: Int) throws {
        let ring = try RingHarness(members: members, curve: true)
        let count = 300_007
        let results = ring.run(configure: { $0.configure(.ring); $0.chunkElements = 65_536 }) { communicator in
            var buffer = input(rank: communicator.rank, count: count)
            try communicator.allReduce(&buffer, .sum)
            // Rank 0 sends to the last rank, which is not its next neighbour when there are 3.
            let last = communicator.worldSize - 1
            if communicator.rank == 0 {
                try communicator.send(input(rank: 99, count: 1_000), to: last, key: 7)
            }
            let received = communicator.rank == last ? try communicator.receive(from: 0, key: 7, count: 1_000) : []
            return (buffer, received)
        }
        let outputs = try results.map { try $0.get() }
        let inputs = (0..<members).map { input(rank: $0, count: count) }
        for i in stride(from: 0, to: count, by: 101) {
            let expected = inputs.reduce(Double(0)) { $0 + Double($1[i]) }
            #expect(abs(Double(outputs[0].0[i]) - expected) < 1e-5)
        }
        #expect(outputs.allSatisfy { $0.0.map(\.bitPattern) == outputs[0].0.map(\.bitPattern) })
        #expect(outputs[members - 1].1 == input(rank: 99, count: 1_000))
        #expect(ring.refusedHandshakes == 0)
    }

    @Test("a member whose key the others do not list cannot send to them: the call fails naming a rank instead of hanging")
    func unlistedMemberIsRefused() throws {
        let ring = try RingHarness(members: 3, curve: true, admitted: [0, 2])
        let results = ring.run(timeoutMilliseconds: 3_000, configure: { $0.configure(.ring) }) { communicator in
            var buffer = input(rank: communicator.rank, count: 50_000)
            try communicator.allReduce(&buffer, .sum)
            return buffer
        }
        #expect(results.allSatisfy { if case .failure = $0 { true } else { false } }, "no rank can finish a ring with a refused member")
        var messages: [String] = []
        for case .failure(let error) in results {
            let failure = try #require(error as? CollectiveError)
            #expect((0..<3).contains(failure.rank))
            messages.append(failure.description)
        }
        #expect(messages.contains { $0.contains("refused this member's CURVE key") }, "\(messages)")
        #expect(ring.refusedHandshakes >= 1, "rank 1's connection to rank 2 was refused by the ZAP handler")
    }
}
