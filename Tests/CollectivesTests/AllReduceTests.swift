import Collectives
import Foundation
import Testing

@Suite("Ring all-reduce against a sequential reference", .serialized)
struct AllReduceTests {
    static let sizes = [0, 1, 5, 1_003, 16_385, 300_007]

    @Test("sum equals the sequential sum, bit-identical on every rank", arguments: 1...5)
    func sumMatchesReference(members: Int) throws {
        let ring = try RingHarness(members: members)
        for count in Self.sizes {
            let results = ring.run(configure: { $0.chunkElements = 8_192 }) { communicator in
                var buffer = input(rank: communicator.rank, count: count)
                try communicator.allReduce(&buffer, .sum)
                return buffer
            }
            let outputs = try results.map { try $0.get() }
            let inputs = (0..<members).map { input(rank: $0, count: count) }
            let reference = (0..<count).map { i in inputs.reduce(Double(0)) { $0 + Double($1[i]) } }
            for (rank, output) in outputs.enumerated() {
                #expect(output.count == count)
                #expect(output.map(\.bitPattern) == outputs[0].map(\.bitPattern), "rank \(rank) differs from rank 0 at size \(count)")
            }
            let worst = zip(outputs[0], reference).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-5, "size \(count), \(members) members: max error \(worst)")
        }
    }

    @Test("mean divides by the world size; small and large paths agree with the reference")
    func meanMatchesReference() throws {
        let members = 3
        let ring = try RingHarness(members: members)
        for count in [10, 50_000] {
            let results = ring.run { communicator in
                var buffer = input(rank: communicator.rank, count: count, seed: 11)
                try communicator.allReduce(&buffer, .mean)
                return buffer
            }
            let outputs = try results.map { try $0.get() }
            let inputs = (0..<members).map { input(rank: $0, count: count, seed: 11) }
            for i in stride(from: 0, to: count, by: 997) {
                let expected = inputs.reduce(Double(0)) { $0 + Double($1[i]) } / Double(members)
                #expect(abs(Double(outputs[1][i]) - expected) < 1e-6)
            }
            #expect(outputs[0].map(\.bitPattern) == outputs[2].map(\.bitPattern))
        }
    }

    @Test("many calls in a row on one ring stay in step")
    func manyCallsInARow() throws {
        let ring = try RingHarness(members: 4)
        let results = ring.run { communicator in
            var last: [Float] = []
            for call in 0..<50 {
                var buffer = [Float](repeating: Float(communicator.rank + call), count: call % 2 == 0 ? 3 : 40_000)
                try communicator.allReduce(&buffer)
                last = buffer
            }
            return last
        }
        for result in results {
            let buffer = try result.get()
            #expect(buffer.allSatisfy { $0 == Float(0 + 1 + 2 + 3 + 4 * 49) })
        }
    }

    @Test("ranks that disagree about the size fail naming a rank, instead of corrupting memory")
    func mismatchedSizes() throws {
        let ring = try RingHarness(members: 2)
        let results = ring.run(timeoutMilliseconds: 2_000) { communicator in
            var buffer = [Float](repeating: 1, count: communicator.rank == 0 ? 40_000 : 40_010)
            try communicator.allReduce(&buffer)
        }
        for result in results {
            #expect(throws: CollectiveError.self) { try result.get() }
        }
        let error = try #require(results.compactMap { result -> CollectiveError? in
            if case .failure(let error as CollectiveError) = result { return error } else { return nil }
        }.first)
        guard case .protocolViolation(let detail) = error.kind else {
            Issue.record("expected a protocol violation, got \(error)")
            return
        }
        #expect(detail.contains("40000") || detail.contains("40010") || detail.contains("20005"), "\(detail)")
    }
}
