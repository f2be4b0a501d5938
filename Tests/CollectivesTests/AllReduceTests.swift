import Collectives
import Foundation
import Testing

@Suite("Ring all-reduce against a sequential reference", .serialized)
struct AllReduceTests {
    static let sizes = [0, 1, 5, 1_003, 16_385, 300_007]

    @Test("sum equals the sequential sum, bit-identical on every rank", arguments: DataPath.allCases, 1...5)
    func sumMatchesReference(path: DataPath, members: Int) throws {
        let ring = try RingHarness(members: members)
        for count in Self.sizes {
            let results = ring.run(configure: { $0.configure(path); $0.chunkElements = 8_192 }) { communicator in
                var buffer = input(rank: communicator.rank, count: count)
                try communicator.allReduce(&buffer, .sum)
                #expect(communicator.usesSharedMemory == (path == .automatic && members > 1 && count > 0))
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

    @Test("mean divides by the world size; small and large paths agree with the reference", arguments: DataPath.allCases)
    func meanMatchesReference(path: DataPath) throws {
        let members = 3
        let ring = try RingHarness(members: members)
        for count in [10, 50_000] {
            let results = ring.run(configure: { $0.configure(path) }) { communicator in
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

    @Test("many calls in a row on one ring stay in step", arguments: DataPath.allCases)
    func manyCallsInARow(path: DataPath) throws {
        let ring = try RingHarness(members: 4)
        let results = ring.run(configure: { $0.configure(path) }) { communicator in
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

    @Test("ranks that disagree about the size fail naming a rank, instead of corrupting memory", arguments: DataPath.allCases)
    func mismatchedSizes(path: DataPath) throws {
        let ring = try RingHarness(members: 2)
        let results = ring.run(timeoutMilliseconds: 2_000, configure: { $0.configure(path) }) { communicator in
            var buffer = [Float](repeating: 1, count: communicator.rank == 0 ? 40_000 : 40_010)
            try communicator.allReduce(&buffer)
        }
        for result in results {
            #expect(throws: CollectiveError.self) { try result.get() }
        }
        // The rank that first sees the other's chunk names the disagreement. Which rank that
        // is depends on timing: the other may never get a chunk (its neighbour stopped before
        // sending one, and a rank does not send an abort to the rank it blames), and then
        // fails at its deadline naming that neighbour.
        let errors = results.compactMap { result -> CollectiveError? in
            if case .failure(let error as CollectiveError) = result { return error } else { return nil }
        }
        let details = errors.compactMap { error -> String? in
            if case .protocolViolation(let detail) = error.kind { return detail } else { return nil }
        }
        let detail = try #require(details.first, "expected a protocol violation from some rank, got \(errors)")
        #expect(detail.contains("40000") || detail.contains("40010") || detail.contains("20005"), "\(detail)")
        #expect(errors.count == 2 && errors.allSatisfy { (0..<2).contains($0.rank) }, "\(errors)")
    }

    @Test("mixed sizes and operations through shared memory: blocks, stages and the whole-buffer path in one ring")
    func sharedMemoryMixedCalls() throws {
        let members = 3
        let ring = try RingHarness(members: members)
        let counts = [7, 4_096, 4_097, 70_001, 1, 12_288, 33]
        let results = ring.run(configure: { $0.configure(.automatic) }) { communicator in
            try counts.enumerated().map { index, count in
                var buffer = input(rank: communicator.rank, count: count, seed: UInt64(index))
                try communicator.allReduce(&buffer, index % 2 == 0 ? .sum : .mean)
                return buffer
            }
        }
        let outputs = try results.map { try $0.get() }
        for (index, count) in counts.enumerated() {
            let inputs = (0..<members).map { input(rank: $0, count: count, seed: UInt64(index)) }
            let divisor = index % 2 == 0 ? 1.0 : Double(members)
            for i in 0..<count {
                let expected = inputs.reduce(Double(0)) { $0 + Double($1[i]) } / divisor
                #expect(abs(Double(outputs[2][index][i]) - expected) < 1e-5, "call \(index), element \(i)")
            }
            #expect(outputs[0][index].map(\.bitPattern) == outputs[1][index].map(\.bitPattern))
            #expect(outputs[0][index].map(\.bitPattern) == outputs[2][index].map(\.bitPattern))
        }
    }
}

extension Communicator {
    /// The tests' settings for a data path: small shared-memory blocks, so that modest
    /// buffers cross many blocks and both stages.
    func configure(_ path: DataPath) {
        dataPath = path
        sharedMemoryBlockElements = 4_096
    }
}
