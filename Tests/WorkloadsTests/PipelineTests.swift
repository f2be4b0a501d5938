import Collectives
import Foundation
import NN
import Synchronization
import Tensor
import Testing
import Wire

@testable import Workloads

/// Pipeline parallelism: schedules, partitions, and training a model cut into stages on
/// gang members (threads of this process over real loopback sockets) compared with
/// training the whole model in one process.
@Suite("Pipeline parallelism", .serialized)
struct PipelineTests {
    // MARK: Schedules

    @Test("GPipe runs every forward then every backward; 1F1B warms up S−s−1 forwards, then alternates")
    func scheduleOrders() {
        #expect(PipelineSchedule.gpipe.actions(stage: 0, stages: 3, microBatches: 3).map(\.description) == ["F0", "F1", "F2", "B0", "B1", "B2"])
        let oneF1B = PipelineSchedule.oneForwardOneBackward
        #expect(oneF1B.actions(stage: 0, stages: 3, microBatches: 4).map(\.description) == ["F0", "F1", "F2", "B0", "F3", "B1", "B2", "B3"])
        #expect(oneF1B.actions(stage: 1, stages: 3, microBatches: 4).map(\.description) == ["F0", "F1", "B0", "F2", "B1", "F3", "B2", "B3"])
        #expect(oneF1B.actions(stage: 2, stages: 3, microBatches: 4).map(\.description) == ["F0", "B0", "F1", "B1", "F2", "B2", "F3", "B3"])
        #expect(oneF1B.actions(stage: 0, stages: 4, microBatches: 2).map(\.description) == ["F0", "F1", "B0", "B1"])
    }

    @Test("1F1B keeps at most S−s micro-batches on stage s, GPipe all M; both run each micro-batch once, backwards in order",
          arguments: [4, 8, 16])
    func scheduleMemory(microBatches: Int) {
        for stages in 1...4 {
            for stage in 0..<stages {
                for schedule in PipelineSchedule.allCases {
                    let actions = schedule.actions(stage: stage, stages: stages, microBatches: microBatches)
                    #expect(actions.filter { if case .forward = $0 { true } else { false } }.count == microBatches)
                    let backwards = actions.compactMap { if case .backward(let m) = $0 { m } else { nil } }
                    #expect(backwards == Array(0..<microBatches), "\(schedule) stage \(stage): backwards out of order")
                    for m in 0..<microBatches {
                        #expect(actions.firstIndex(of: .forward(m))! < actions.firstIndex(of: .backward(m))!)
                    }
                    let peak = PipelineSchedule.peakLiveMicroBatches(actions)
                    let expected = schedule == .gpipe ? microBatches : min(stages - stage, microBatches)
                    #expect(peak == expected, "\(schedule) stage \(stage) of \(stages): \(peak) kept")
                }
            }
        }
    }

    /// Runs every stage's actions as soon as their inputs exist (a forward needs the
    /// previous stage's, a backward the next stage's), each taking `forward` or `backward`
    /// time units; returns the idle fraction, or nil if the stages deadlock.
    static func simulatedBubble(_ schedule: PipelineSchedule, stages: Int, microBatches: Int, forward: Double, backward: Double) -> Double? {
        let plans = (0..<stages).map { schedule.actions(stage: $0, stages: stages, microBatches: microBatches) }
        var next = [Int](repeating: 0, count: stages), clock = [Double](repeating: 0, count: stages)
        var forwardDone: [[Double?]] = Array(repeating: Array(repeating: nil, count: microBatches), count: stages)
        var backwardDone = forwardDone
        var progress = true
        while progress {
            progress = false
            for stage in 0..<stages where next[stage] < plans[stage].count {
                let ready: Double?
                switch plans[stage][next[stage]] {
                case .forward(let m): ready = stage == 0 ? 0 : forwardDone[stage - 1][m]
                case .backward(let m): ready = stage == stages - 1 ? forwardDone[stage][m] : backwardDone[stage + 1][m]
                }
                guard let ready else { continue }
                switch plans[stage][next[stage]] {
                case .forward(let m):
                    clock[stage] = max(clock[stage], ready) + forward
                    forwardDone[stage][m] = clock[stage]
                case .backward(let m):
                    clock[stage] = max(clock[stage], ready) + backward
                    backwardDone[stage][m] = clock[stage]
                }
                next[stage] += 1
                progress = true
            }
        }
        guard zip(next, plans).allSatisfy({ $0 == $1.count }) else { return nil }
        let makespan = clock.max()!
        return 1 - Double(microBatches) * (forward + backward) / makespan
    }

    @Test("with equal stage times both schedules run without deadlock and idle exactly (S−1)/(M+S−1)", arguments: [4, 8, 16])
    func idealBubble(microBatches: Int) throws {
        for stages in 2...4 {
            for schedule in PipelineSchedule.allCases {
                let bubble = try #require(Self.simulatedBubble(schedule, stages: stages, microBatches: microBatches, forward: 1, backward: 2))
                #expect(abs(bubble - PipelineSchedule.idealBubble(stages: stages, microBatches: microBatches)) < 1e-12, "\(schedule) S=\(stages)")
            }
        }
    }

    // MARK: Partitions

    @Test("a balanced partition minimizes the slowest stage, as an exhaustive search over cuts does")
    func balancedPartition() {
        #expect(StagePartition.balanced(costs: [1, 1, 1, 1, 4], stages: 2).unitsPerStage == [4, 1])
        #expect(StagePartition.balanced(costs: [0.1, 2, 2, 2, 2, 2, 2, 0.5], stages: 3).unitsPerStage == [3, 2, 3])
        // Costs from the network that are not times still give a partition of every unit.
        #expect(StagePartition.balanced(costs: [.nan, -1, .infinity, 2, 2], stages: 3).unitsPerStage.reduce(0, +) == 5)
        #expect(StagePartition.balanced(costs: [.nan, .nan, .nan], stages: 3).unitsPerStage == [1, 1, 1])
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let n = 2 + Int(generator.next() % 8)
            let stages = 1 + Int(generator.next() % UInt64(n))
            let costs = (0..<n).map { _ in Double(generator.next() % 1000) / 100 }
            let found = StagePartition.balanced(costs: costs, stages: stages)
            #expect(found.stages == stages && found.unitsPerStage.reduce(0, +) == n && found.unitsPerStage.allSatisfy { $0 >= 1 })
            #expect(abs(Self.slowest(found, costs) - Self.bestSlowest(costs, stages: stages)) < 1e-9, "\(costs) into \(stages)")
        }
    }

    static func slowest(_ partition: StagePartition, _ costs: [Double]) -> Double {
        (0..<partition.stages).map { partition.units(ofStage: $0).reduce(0) { $0 + costs[$1] } }.max()!
    }

    /// The best slowest stage over every way to cut `costs` into `stages` runs.
    static func bestSlowest(_ costs: [Double], stages: Int) -> Double {
        if stages == 1 { return costs.reduce(0, +) }
        var best = Double.infinity
        for first in 1...(costs.count - stages + 1) {
            best = min(best, max(costs[..<first].reduce(0, +), bestSlowest(Array(costs[first...]), stages: stages - 1)))
        }
        return best
    }

    // MARK: Training

    static func task(
        stages: Int, replicas: Int = 1, schedule: String = "1f1b", microBatches: Int = 4, units: [Int] = [], steps: Int = 6,
        checkpointEvery: Int = 0, optimizer: String = "adam", epochs: Int = 1, save: String
    ) -> Orrery_V1_Workloads_PipelineTask {
        var task = Orrery_V1_Workloads_PipelineTask()
        (task.model, task.dataset, task.hidden, task.activation) = ("mlp", "digits", [32, 24, 32, 16], "tanh")
        (task.stages, task.replicas, task.schedule, task.microBatches) = (UInt32(stages), UInt32(replicas), schedule, UInt32(microBatches))
        task.unitsPerStage = units.map(UInt32.init)
        (task.batchSize, task.epochs, task.maxSteps, task.optimizer) = (40, UInt32(epochs), UInt32(steps), optimizer)
        task.learningRate = optimizer == "sgd" ? 0.1 : 0.01
        (task.seed, task.testLimit, task.checkpointEvery, task.savePath) = (5, 200, UInt32(checkpointEvery), save)
        return task
    }

    final class CheckpointLog: Sendable {
        let entries = Mutex<[TaskCheckpoint]>([])
    }

    static func context(_ taskID: String, gang: Gang?, resume: TaskCheckpoint? = nil, log: CheckpointLog? = nil, cancelled: @escaping @Sendable () -> Bool = { false }) -> TaskContext {
        TaskContext(
            taskID: taskID, attempt: 1, gang: gang, resume: resume, isCancelled: cancelled, reportProgress: { _, _ in },
            commitCheckpoint: { checkpoint in log?.entries.withLock { $0.append(checkpoint) } })
    }

    /// Runs `task` on its gang (or alone) and returns rank 0's output.
    static func train(_ task: Orrery_V1_Workloads_PipelineTask, resume: TaskCheckpoint? = nil, log: CheckpointLog? = nil) throws -> TaskOutput {
        let members = Int(task.stages * task.replicas)
        let payload = EnvelopeCodec.encodePayload(task)
        let executor = PipelineExecutor()
        guard members > 1 else { return try executor.execute(payload, context: context("single", gang: nil, resume: resume, log: log)) }
        let outcomes = try GangHarness.run(members: members, executor: executor, payload: payload, collectiveID: UUID().uuidString) { _, gang in
            context("pipeline", gang: gang, resume: resume, log: log)
        }
        for (rank, outcome) in outcomes.enumerated() { if case .failure(let error) = outcome { Issue.record("rank \(rank): \(error)") } }
        return try outcomes[0].get()
    }

    func temporary(_ name: String) -> String { "\(NSTemporaryDirectory())/orrery-pipeline-\(getpid())-\(name).safetensors" }

    static func largestDifference(_ a: String, _ b: String) throws -> Float {
        let (x, y) = (try Safetensors.load(a).tensors, try Safetensors.load(b).tensors)
        #expect(Set(x.keys) == Set(y.keys) && !x.isEmpty)
        var largest: Float = 0
        for (name, tensor) in x {
            for (u, v) in zip(tensor.scalars, y[name]!.scalars) { largest = max(largest, abs(u - v)) }
        }
        return largest
    }

    @Test("2 and 3 stages under each schedule, and 2 stages × 2 replicas, end within 1e-5 of one process training the whole model on whole batches",
          arguments: [(2, 1, "gpipe"), (2, 1, "1f1b"), (3, 1, "gpipe"), (3, 1, "1f1b"), (2, 2, "1f1b"), (2, 2, "gpipe")])
    func equalsSingleProcess(stages: Int, replicas: Int, schedule: String) throws {
        let reference = temporary("reference-\(stages)-\(replicas)-\(schedule)")
        let piped = temporary("piped-\(stages)-\(replicas)-\(schedule)")
        defer { [reference, piped].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let single = try Self.train(Self.task(stages: 1, microBatches: 1, optimizer: "sgd", save: reference))
        let output = try Self.train(Self.task(stages: stages, replicas: replicas, schedule: schedule, optimizer: "sgd", save: piped))
        let difference = try Self.largestDifference(reference, piped)
        #expect(difference <= 1e-5, "largest weight difference \(difference)")
        #expect(output.metrics["steps"] == 6 && single.metrics["steps"] == 6)
        #expect(abs((output.metrics["test_accuracy"] ?? -1) - (single.metrics["test_accuracy"] ?? -2)) <= 0.01)
        for stage in 0..<stages {
            let kept = output.metrics["peak_live_stage\(stage)"] ?? -1
            #expect(kept == Double(schedule == "gpipe" ? 4 : min(4, stages - stage)), "stage \(stage) kept \(kept) micro-batches")
        }
    }

    @Test("cutting the model into stages changes no bit: Adam on 2 and 3 stages equals one process with the same micro-batches",
          arguments: [(2, "gpipe"), (3, "1f1b")])
    func stagesChangeNothing(stages: Int, schedule: String) throws {
        let reference = temporary("accumulated-\(stages)-\(schedule)")
        let piped = temporary("staged-\(stages)-\(schedule)")
        defer { [reference, piped].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        _ = try Self.train(Self.task(stages: 1, schedule: schedule, save: reference))
        _ = try Self.train(Self.task(stages: stages, schedule: schedule, save: piped))
        #expect(try Self.largestDifference(reference, piped) == 0)
    }

    @Test("weight gradients held back and added per group (GPipe: the whole step, 1F1B: two micro-batches) end within 1e-5 of each backward adding its own",
          arguments: ["gpipe", "1f1b"])
    func deferredWeightGradients(schedule: String) throws {
        let immediatePath = temporary("immediate-\(schedule)")
        let deferredPath = temporary("deferred-\(schedule)")
        defer { [immediatePath, deferredPath].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var immediate = Self.task(stages: 2, schedule: schedule, microBatches: 5, optimizer: "sgd", save: immediatePath)
        immediate.immediateWeightGradients = true
        _ = try Self.train(immediate)
        _ = try Self.train(Self.task(stages: 2, schedule: schedule, microBatches: 5, optimizer: "sgd", save: deferredPath))
        let difference = try Self.largestDifference(immediatePath, deferredPath)
        #expect(difference <= 1e-5, "largest weight difference \(difference)")
        #expect(difference > 0, "the deferred sum is taken in another order: bit-equal weights would mean nothing was deferred")
        #expect(PipelineSchedule.gpipe.weightGradientGroup(microBatches: 5) == 5 && PipelineSchedule.oneForwardOneBackward.weightGradientGroup(microBatches: 5) == 2)
    }

    @Test("MiniLM fine-tuning cut into 3 stages changes no bit against one process with the same micro-batches")
    func encoderStages() throws {
        let reference = temporary("minilm-whole")
        let piped = temporary("minilm-staged")
        defer { [reference, piped].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var task = Self.task(stages: 1, microBatches: 2, steps: 2, save: reference)
        (task.model, task.dataset, task.hidden, task.activation) = ("minilm", "bbc-news", [], "")
        (task.batchSize, task.trainLimit, task.testLimit, task.maxTokens, task.learningRate) = (4, 8, 8, 24, 1e-4)
        let whole = try Self.train(task)
        (task.stages, task.unitsPerStage, task.savePath) = (3, [3, 3, 2], piped)
        let staged = try Self.train(task)
        #expect(try Self.largestDifference(reference, piped) == 0)
        #expect(staged.metrics["test_loss"] == whole.metrics["test_loss"])
        #expect(try Safetensors.load(piped).tensors["classifier.weight"]?.shape == [5, 384])
    }

    @Test("a pipeline resumed from a checkpoint, cut differently, ends with the weights of an undisturbed run")
    func resumeAcrossPartitions() throws {
        let straight = temporary("straight")
        let resumed = temporary("resumed")
        defer { [straight, resumed].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let log = CheckpointLog()
        _ = try Self.train(Self.task(stages: 2, units: [2, 3], checkpointEvery: 2, save: straight), log: log)
        let checkpoints = log.entries.withLock { $0 }
        #expect(checkpoints.map(\.step) == [2, 4])
        let output = try Self.train(Self.task(stages: 3, units: [1, 2, 2], checkpointEvery: 2, save: resumed), resume: checkpoints[0])
        #expect(output.metrics["resumed_at_step"] == 2)
        #expect(try Self.largestDifference(straight, resumed) == 0)
    }

    @Test("an automatic partition balances measured unit times and is the same on every member")
    func automaticPartition() throws {
        let path = temporary("auto")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var task = Self.task(stages: 2, steps: 2, save: path)
        task.hidden = [16, 512, 512, 16]
        let output = try Self.train(task)
        let details = try JSONSerialization.jsonObject(with: output.payload) as? [String: String]
        // Units: 64→16, 16→512, 512→512, 512→16, 16→10. The 512×512 unit dominates.
        #expect(details?["partition"] == "3+2" || details?["partition"] == "2+3", "\(details ?? [:])")
    }

    @Test("a stage that stops mid-training is named by the others within the deadline")
    func deadStage() throws {
        let payload = EnvelopeCodec.encodePayload(Self.task(stages: 3, steps: 0, epochs: 1000, save: ""))
        let started = Date()
        let outcomes = try GangHarness.run(members: 3, executor: PipelineExecutor(), payload: payload, collectiveID: UUID().uuidString, timeoutMilliseconds: 1_500) { rank, gang in
            Self.context("dead", gang: gang, cancelled: { rank == 1 && Date().timeIntervalSince(started) > 0.5 })
        }
        #expect(Date().timeIntervalSince(started) < 8)
        for rank in [0, 2] {
            guard case .failure(let error as CollectiveError) = outcomes[rank] else {
                Issue.record("rank \(rank): expected a collective error, got \(outcomes[rank])")
                continue
            }
            #expect(error.rank == 1, "rank \(rank): \(error)")
        }
    }
}
