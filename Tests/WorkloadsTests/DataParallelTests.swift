import Collectives
import Foundation
import Messaging
import NN
import Synchronization
import Tensor
import Testing
import Workloads

/// Data-parallel training through the `train` executor, with every rank a thread of this
/// process talking over real loopback sockets, compared with training in one process.
@Suite("Data-parallel training", .serialized)
struct DataParallelTests {
    static func payload(save: String, checkpointEvery: Int = 0, optimizer: String = "adam", exactShards: Int = 0) throws -> Data {
        let yaml = """
            name: dp
            workload: train
            train:
              dataset: digits
              hidden: [64, 32]
              optimizer: \(optimizer)
              learning_rate: 0.01
              batch_size: 50
              epochs: 2
              train_limit: 500
              seed: 9
              save: \(save)
              checkpoint_every: \(checkpointEvery)
              bucket_elements: 2048
              exact_shards: \(exactShards)
            """
        return try JobSpec.parse(yaml: yaml, source: "dp.yaml", registry: .builtIn).planner.start()[0].payload
    }

    static func weights(_ path: String) throws -> [String: [Float]] {
        try Safetensors.load(path).tensors.mapValues { $0.scalars }
    }

    /// Collects the checkpoints a run commits.
    final class CheckpointLog: Sendable {
        let entries = Mutex<[TaskCheckpoint]>([])
    }

    static func context(gang: Gang? = nil, resume: TaskCheckpoint? = nil, checkpoints: CheckpointLog? = nil) -> TaskContext {
        TaskContext(
            taskID: "dp", attempt: 1, gang: gang, resume: resume, isCancelled: { false }, reportProgress: { _, _ in },
            commitCheckpoint: { checkpoint in checkpoints?.entries.withLock { $0.append(checkpoint) } })
    }

    func temporary(_ name: String) -> String { "\(NSTemporaryDirectory())/orrery-dp-\(getpid())-\(name).safetensors" }

    /// Runs the train executor as `members` ranks, each a thread with its own data plane,
    /// and records any rank's failure as a test issue.
    static func trainOnGang(members: Int, payload: Data, collectiveID: String) throws {
        let outcomes = try GangHarness.run(members: members, executor: try TrainWorkload().makeExecutor(), payload: payload, collectiveID: collectiveID) { _, gang in
            Self.context(gang: gang)
        }
        for (rank, outcome) in outcomes.enumerated() {
            switch outcome {
            case .failure(let error): Issue.record("rank \(rank): \(error)")
            case .success(let output) where rank == 0 && output.metrics["workers"] != Double(members): Issue.record("rank 0 metrics \(output.metrics)")
            default: break
            }
        }
    }

    @Test("with exact_shards, one process and gangs of 2 and 3 end with bit-identical weights")
    func exactShardsAreIndependentOfGangSize() throws {
        let executor = try TrainWorkload().makeExecutor()
        let single = temporary("exact-1")
        defer { try? FileManager.default.removeItem(atPath: single) }
        _ = try executor.execute(try Self.payload(save: single, exactShards: 6), context: Self.context())
        let expected = try Self.weights(single)
        for members in [2, 3] {
            let path = temporary("exact-\(members)")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Self.trainOnGang(members: members, payload: try Self.payload(save: path, exactShards: 6), collectiveID: "exact-\(members)")
            let got = try Self.weights(path)
            #expect(got == expected, "\(members) ranks: weights differ from one process's")
        }
    }

    @Test("N ranks end with the weights of one process on the same global batches", arguments: [2, 3])
    func matchesSingleProcess(members: Int) throws {
        let executor = try TrainWorkload().makeExecutor()
        let single = temporary("single-\(members)")
        defer { try? FileManager.default.removeItem(atPath: single) }
        _ = try executor.execute(try Self.payload(save: single), context: Self.context())

        let parallel = temporary("parallel-\(members)")
        defer { try? FileManager.default.removeItem(atPath: parallel) }
        try Self.trainOnGang(members: members, payload: try Self.payload(save: parallel), collectiveID: "dp-\(members)")
        let (expected, got) = (try Self.weights(single), try Self.weights(parallel))
        #expect(Set(expected.keys) == Set(got.keys))
        for (name, values) in expected {
            let other = try #require(got[name])
            let difference = zip(values, other).map { Double(abs($0 - $1)) }.reduce(0, +)
            let scale = values.map { Double(abs($0)) }.reduce(0, +)
            #expect(difference / max(scale, 1e-12) <= 1e-5, "\(name): relative error \(difference / scale)")
        }
    }

    @Test("resuming from a checkpoint ends where the uninterrupted run ends", arguments: ["adam", "sgd"])
    func resumeFromCheckpoint(optimizer: String) throws {
        let executor = try TrainWorkload().makeExecutor()
        let whole = temporary("whole-\(optimizer)")
        let resumed = temporary("resumed-\(optimizer)")
        defer {
            try? FileManager.default.removeItem(atPath: whole)
            try? FileManager.default.removeItem(atPath: resumed)
        }
        let checkpoints = CheckpointLog()
        _ = try executor.execute(try Self.payload(save: whole, checkpointEvery: 7, optimizer: optimizer), context: Self.context(checkpoints: checkpoints))
        let saved = checkpoints.entries.withLock { $0 }
        #expect(saved.map(\.step) == [7, 14])
        let output = try executor.execute(
            try Self.payload(save: resumed, checkpointEvery: 7, optimizer: optimizer), context: Self.context(resume: saved[0]))
        #expect(output.metrics["resumed_at_step"] == 7)
        #expect(try Self.weights(whole) == Self.weights(resumed))
    }
}
