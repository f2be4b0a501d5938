import Foundation
import NN
import OrreryTestSupport
import Search
import Tensor
import Testing
import Wire

@testable import Workloads

/// The `nas` workload without a cluster: the spec, the planner on crafted outcomes, and
/// the real executor on UCI digits (small enough to train in a test).
@Suite("Neural architecture search", .serialized)
struct NASTests {
    static func planner(_ yaml: String) throws -> NASPlanner {
        try #require(try JobSpec.parse(yaml: yaml, source: "nas.yaml", registry: .builtIn).planner as? NASPlanner)
    }

    static func spec(strategy: String = "asha", budget: Int = 30, extra: String = "", space: String? = nil) -> String {
        """
        name: nas-test
        workload: nas
        nas:
          dataset: digits
          strategy: \(strategy)
          budget: \(budget)
          epochs: 9
          reduction: 3
          parallel: 2
          dev: 300
          latency_runs: 3
          population: 4
        \(extra.isEmpty ? "" : "  " + extra)
          space:
        \(space ?? """
            family: {choice: [mlp, cnn]}
            depth: {int: [1, 3], when: family == mlp}
            width_1: {choice: [16, 32, 64], when: family == mlp}
            width_2: {choice: [16, 32], when: depth >= 2}
            width_3: {choice: [16, 32], when: depth >= 3}
            blocks: {int: [1, 2], when: family == cnn}
            channels_1: {choice: [4, 8], when: family == cnn}
            channels_2: {choice: [8, 16], when: blocks >= 2}
            residual: {choice: [false, true], when: family == cnn}
            head: {choice: [0, 32], when: family == cnn}
            dropout: {choice: [0, 0.25]}
            learning_rate: {log: [0.001, 0.03]}
        """)
        """
    }

    /// A made-up trial result: accuracy rising with epochs towards a ceiling set by the
    /// configuration's text, a checkpoint naming the task, size and latency from the text.
    static func fakeOutcome(_ task: PlannedTask, missed: ((PlannedTask) -> Bool)? = nil) throws -> TaskOutcome {
        let payload = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: task.payload)
        var hash = SplitMix64(seed: UInt64(truncatingIfNeeded: payload.settings.keys.sorted().map { "\($0)=\(payload.settings[$0]!)" }.joined().utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) }))
        let ceiling = 0.6 + 0.35 * hash.nextUnit()
        var result = Orrery_V1_Workloads_NasTrialResult()
        result.devAccuracy = (1...Int(payload.endEpoch)).map { ceiling * (1 - pow(0.5, Double($0))) }
        result.parameters = 1000 + hash.next() % 100_000
        result.latencyMs = 0.1 + hash.nextUnit()
        result.testAccuracy = payload.final ? ceiling - 0.01 : 0
        if payload.returnCheckpoint { result.checkpoint = Data("state of \(task.key)".utf8) }
        if payload.keepCheckpoint { result.keptCheckpoint = "kept \(task.key)" }
        result.resumedAtEpoch = payload.startEpoch
        // A promoted trial whose kept state its worker no longer holds trains from epoch 0.
        if let miss = missed, miss(task) { result.resumedAtEpoch = 0 }
        return TaskOutcome(key: task.key, result: .success(TaskOutput(payload: try result.serializedData())), attempts: 1, workerID: "w-\(task.key)")
    }

    /// Runs a planner to the end on fake outcomes, answering the oldest open task first.
    static func drive(_ planner: NASPlanner, missed: ((PlannedTask) -> Bool)? = nil) throws -> [PlannedTask] {
        var open = planner.start()
        var all = open
        while !open.isEmpty {
            let task = open.removeFirst()
            let more = planner.consume(try fakeOutcome(task, missed: missed))
            open += more
            all += more
        }
        return all
    }

    @Test("the example jobs parse, and every strategy's plan fits its budget")
    func exampleJobs() throws {
        for name in ["nas-random", "nas-evolution", "nas-asha", "nas-hyperband"] {
            let path = PackageRoot.url.appendingPathComponent("jobs/\(name).yaml").path
            let job = try JobSpec.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), source: path, registry: .builtIn)
            #expect(job.planner is NASPlanner, "\(name)")
        }
    }

    @Test(
        "ASHA on crafted outcomes: promoted trials continue from the state their last result returned or its worker kept",
        arguments: ["kept", "returned"])
    func ashaPromotions(promotionState: String) throws {
        let planner = try Self.planner(Self.spec(extra: "final: {top: 2, epochs: 3, save: w.safetensors}\n  promotion_state: \(promotionState)"))
        #expect(planner.plan.promotionState.rawValue == promotionState)
        // Every third promotion finds its state gone from the worker (kept states only).
        var promotionsSeen = 0
        let tasks = try Self.drive(planner, missed: { task in
            guard promotionState == "kept", let payload = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: task.payload),
                payload.startEpoch > 0 else { return false }
            promotionsSeen += 1
            return promotionsSeen % 3 == 0
        })
        let decoded = try tasks.map {
            ($0.key, try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: $0.payload), $0.preferredWorker, $0.startsFrom)
        }
        let trials = decoded.filter { !$0.1.final }
        let promotions = trials.filter { $0.1.startEpoch > 0 }
        #expect(!promotions.isEmpty, "ASHA promoted nothing")
        for (key, task, preferred, startsFrom) in promotions {
            // trial-<id>-e<budget>: the previous rung's task of the same trial returned the
            // checkpoint, or kept it on the worker that ran it, where the promotion is sent.
            let id = key.split(separator: "-")[1]
            let previous = "trial-\(id)-e\(task.startEpoch)"
            if promotionState == "kept" {
                #expect(task.checkpoint.isEmpty && task.keptCheckpoint == "kept \(previous)", "\(key) does not continue \(previous)")
                #expect(preferred == "w-\(previous)", "\(key) is not sent to the worker that kept its state")
                #expect(startsFrom == previous, "elsewhere, \(key) is not sent \(previous)'s last checkpoint")
            } else {
                #expect(task.checkpoint == Data("state of \(previous)".utf8) && task.keptCheckpoint.isEmpty, "\(key) does not continue \(previous)")
                #expect(preferred == nil && startsFrom == nil)
            }
            #expect([1, 3].contains(task.startEpoch) && task.endEpoch == (task.startEpoch == 1 ? 3 : 9))
        }
        // Rung-0 and middle trials ask for their state (back, or kept); top-rung ones do not.
        for (_, task, preferred, _) in trials {
            #expect(task.returnCheckpoint == (promotionState == "returned" && task.endEpoch < 9))
            #expect(task.keepCheckpoint == (promotionState == "kept" && task.endEpoch < 9))
            if task.startEpoch == 0 { #expect(preferred == nil) }
        }
        // Epochs trained again are counted apart: the missed promotions' earlier rungs.
        let missedEpochs = promotionState == "kept" ? promotions.enumerated().filter { ($0.offset + 1) % 3 == 0 }.reduce(0) { $0 + Int($1.element.1.startEpoch) } : 0
        #expect(planner.epochsRetrained == missedEpochs)
        if promotionState == "kept" { #expect(missedEpochs > 0) }
        #expect(trials.allSatisfy { $0.1.horizonEpochs == 9 })
        // A promotion costs only its new epochs, and the total stays within the budget.
        let cost = trials.reduce(0) { $0 + Int($1.1.endEpoch - $1.1.startEpoch) }
        #expect(planner.epochsTrained == cost && cost <= 30, "\(cost) epochs")
        // The finals: the top 2 at the largest budget, from scratch, on all data, the first saved.
        let finals = decoded.filter { $0.1.final }.map { ($0.0, $0.1) }
        #expect(finals.map(\.0) == ["final-1", "final-2"])
        #expect(finals.allSatisfy { $0.1.checkpoint.isEmpty && $0.1.startEpoch == 0 && $0.1.endEpoch == 3 })
        #expect(finals[0].1.savePath == "w.safetensors" && finals[1].1.savePath.isEmpty)
        #expect(planner.isComplete)
        let best = planner.ranked[0]
        #expect(best.epochs == planner.ranked.map(\.epochs).max())
        let report = planner.report()
        #expect(report.text.contains("final 1") && report.text.contains("test accuracy"))
        #expect(report.files["front.svg"]?.hasPrefix("<svg") == true && report.files["trials.csv"] != nil && report.files["winner.yaml"] != nil)
    }

    @Test("random search and evolution ask for budget/epochs full trials, each a distinct configuration")
    func fullBudgetStrategies() throws {
        for strategy in ["random", "evolution"] {
            let planner = try Self.planner(Self.spec(strategy: strategy, budget: 54))
            let tasks = try Self.drive(planner)
            #expect(tasks.count == 6, "\(strategy)")
            let settings = try tasks.map { try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: $0.payload) }
            #expect(settings.allSatisfy { $0.startEpoch == 0 && $0.endEpoch == 9 && !$0.returnCheckpoint })
            #expect(Set(settings.map { $0.settings }).count == 6)
            #expect(planner.isComplete && planner.report().files["winner.yaml"] != nil)
        }
    }

    @Test("Hyperband on crafted outcomes starts trials in every bracket and stays within its budget")
    func hyperbandPlan() throws {
        let planner = try Self.planner(Self.spec(strategy: "hyperband", budget: 90))
        let tasks = try Self.drive(planner)
        let decoded = try tasks.map { try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: $0.payload) }
        #expect(Set(decoded.filter { $0.startEpoch == 0 }.map(\.endEpoch)) == [1, 3, 9])
        #expect(planner.epochsTrained <= 90)
    }

    @Test("the front and hypervolume of crafted trials, and a trial that fails for good")
    func frontAndFailures() throws {
        let planner = try Self.planner(Self.spec(strategy: "random", budget: 45))
        var open = planner.start()
        var failed = false
        while !open.isEmpty {
            let task = open.removeFirst()
            if !failed {
                failed = true
                open += planner.consume(TaskOutcome(key: task.key, result: .failure("worker ran out of memory"), attempts: 3, workerID: "w"))
            } else {
                open += planner.consume(try Self.fakeOutcome(task))
            }
        }
        #expect(planner.trialsFailed == 1 && planner.failureReason == nil)
        let front = NASFront(records: planner.records, reference: planner.plan.reference)
        #expect(front.points.count == 4)
        // Every point off the front is dominated by one on it.
        for (index, point) in front.points.enumerated() where !front.front.contains(index) {
            #expect(front.front.contains { ParetoFront.dominates(front.points[$0].objectives, point.objectives) })
        }
        #expect(front.hypervolume > 0 && front.hypervolume < 1)
        #expect(planner.report().text.contains("1 failed"))
    }

    @Test(
        "spec errors name the field",
        arguments: [
            ("budget: 30", "width_9: {choice: [8]}", "unknown setting 'width_9'"),
            ("budget: 30", "family: cnn\n    blocks: {int: [1, 3]}\n    channels_1: {choice: [4]}\n    channels_2: {choice: [8], when: blocks >= 2}", "channels_3"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: {choice: [8], when: depth >= 1}\n    kernel_1: {choice: [4]}", "odd integer"),
            ("budget: 30", "family: mlp\n    width_1: {choice: [8], when: depth >= 1}\n    depth: 1", "not declared before it"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: {choice: [8, 8]}", "twice"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: {choice: [8], when: depth >> 1}", "expected 'name OP value'"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: 8\n    activation: {choice: [relu, 'a,b']}", "may not contain"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: {int: [8, 4]}", "above high"),
            ("budget: 30", "family: mlp\n    depth: 1\n    width_1: 4000\n    learning_rate: {log: [0, 1]}", "nas.space.learning_rate.log"),
            ("budget: 3", "family: mlp\n    depth: 1\n    width_1: 8", "at least epochs"),
        ])
    func specErrors(budget: String, space: String, expected: String) throws {
        let yaml = Self.spec(strategy: "random", space: "    " + space).replacingOccurrences(of: "budget: 30", with: budget)
        let error = #expect(throws: SpecError.self) { try JobSpec.parse(yaml: yaml, source: "nas.yaml", registry: .builtIn) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
        #expect(error?.line != nil)
    }

    @Test(
        "a train spec's architecture section is checked like a search space's values",
        arguments: [
            ("architecture: {family: cnn, blocks: 2, channels: 8}\n  model: cnn", "cannot be set with architecture"),
            ("architecture: {family: cnn, blocks: 2, channels: 8, optimizer: sgd}", "top level"),
            ("architecture: {family: cnn, blocks: 2, channels: 8, kernel: 4}", "odd integer"),
            ("architecture: {family: cnn, blocks: 2}", "channels_1 (or channels) is required"),
            ("architecture: {family: cnn, blocks: 5, channels: 8}", "pooled to nothing"),
            ("architecture: {family: mlp, depth: 2, width: 64, widht_3: 8}", "unknown setting 'widht_3'"),
        ])
    func trainArchitectureErrors(section: String, expected: String) throws {
        let yaml = "name: t\nworkload: train\ntrain:\n  dataset: digits\n  \(section)\n"
        let error = #expect(throws: SpecError.self) { try JobSpec.parse(yaml: yaml, source: "train.yaml", registry: .builtIn) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("evolution refuses a budget that never gets past its first population")
    func evolutionBudget() throws {
        #expect(throws: SpecError.self) { try JobSpec.parse(yaml: Self.spec(strategy: "evolution", budget: 36), source: "nas.yaml", registry: .builtIn) }
    }

    // MARK: The real executor on digits

    static func context(resume: TaskCheckpoint? = nil, commits: CheckpointBox? = nil) -> TaskContext {
        TaskContext(
            taskID: "nas", attempt: 1, resume: resume, isCancelled: { false }, reportProgress: { _, _ in },
            commitCheckpoint: { checkpoint in commits?.append(checkpoint) })
    }

    final class CheckpointBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [TaskCheckpoint] = []
        func append(_ checkpoint: TaskCheckpoint) { lock.withLock { stored.append(checkpoint) } }
        var all: [TaskCheckpoint] { lock.withLock { stored } }
    }

    static func trialTask(start: Int = 0, end: Int, checkpoint: Data = Data(), returnCheckpoint: Bool = true) -> Orrery_V1_Workloads_NasTrialTask {
        var task = Orrery_V1_Workloads_NasTrialTask()
        task.dataset = "digits"
        // A residual CNN with dropout: every part whose state must survive a checkpoint.
        task.settings = ["family": "cnn", "blocks": "2", "channels_1": "4", "channels_2": "8", "residual": "true", "head": "16", "dropout": "0.25",
                         "learning_rate": "0.01", "batch_size": "32"]
        task.seed = 3
        task.devExamples = 300
        task.splitSeed = 7
        task.startEpoch = UInt32(start)
        task.endEpoch = UInt32(end)
        task.horizonEpochs = 4
        task.schedule = "cosine"
        task.checkpoint = checkpoint
        task.returnCheckpoint = returnCheckpoint
        task.latencyRuns = 3
        return task
    }

    static func run(
        _ task: Orrery_V1_Workloads_NasTrialTask, on executor: any Executor = NASExecutor(), context: TaskContext = context()
    ) throws -> Orrery_V1_Workloads_NasTrialResult {
        let output = try executor.execute(EnvelopeCodec.encodePayload(task), context: context)
        return try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialResult.self, from: output.payload)
    }

    static func weights(_ checkpoint: Data) throws -> [String: [Float]] {
        let (tensors, _, _) = try Safetensors.decode(checkpoint, source: "checkpoint")
        return tensors.mapValues { $0.storage.withUnsafeBufferPointer { Array($0) } }
    }

    @Test("a trial promoted from 1 to 3 epochs continues from its checkpoint and ends bit-identical to one trained 3 epochs straight")
    func promotedTrialResumes() throws {
        let straight = try Self.run(Self.trialTask(end: 3))
        let rung0 = try Self.run(Self.trialTask(end: 1))
        let promoted = try Self.run(Self.trialTask(start: 1, end: 3, checkpoint: rung0.checkpoint))
        #expect(promoted.resumedAtEpoch == 1)
        #expect(promoted.devAccuracy == straight.devAccuracy, "\(promoted.devAccuracy) vs \(straight.devAccuracy)")
        #expect(try Self.weights(promoted.checkpoint) == Self.weights(straight.checkpoint))
        #expect(straight.devAccuracy.count == 3 && straight.devAccuracy.last! > 0.5, "it learns: \(straight.devAccuracy)")
        // A fresh start of the promoted task without its checkpoint is refused, not trained from scratch.
        #expect(throws: TaskError.self) { try Self.run(Self.trialTask(start: 1, end: 3)) }
    }

    @Test("a promoted trial continues from the state its worker kept, or elsewhere from the copy its lease carries; with neither it trains the earlier epochs again, to the same bits")
    func keptStateResumes() throws {
        let straight = try Self.run(Self.trialTask(end: 3))
        let worker = NASExecutor()
        var rung0 = Self.trialTask(end: 1, returnCheckpoint: false)
        rung0.keepCheckpoint = true
        let commits = CheckpointBox()
        let output = try worker.execute(EnvelopeCodec.encodePayload(rung0), context: Self.context(commits: commits))
        let kept = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialResult.self, from: output.payload)
        #expect(kept.checkpoint.isEmpty && !kept.keptCheckpoint.isEmpty && worker.kept.count == 1, "the state stays on the worker")
        #expect(commits.all.isEmpty, "nothing is committed ahead of the result")
        let copy = try #require(output.finalCheckpoint, "a copy goes out after the result, as the task's final checkpoint")
        #expect(copy.step == 1 && worker.kept.kept(kept.keptCheckpoint) == copy.data)
        var promoted = Self.trialTask(start: 1, end: 3)
        promoted.keptCheckpoint = kept.keptCheckpoint
        let here = try Self.run(promoted, on: worker)
        #expect(here.resumedAtEpoch == 1)
        #expect(here.devAccuracy == straight.devAccuracy)
        #expect(try Self.weights(here.checkpoint) == Self.weights(straight.checkpoint))
        // Another worker, handed the committed copy in its lease (as `resume`).
        let carried = try Self.run(promoted, on: NASExecutor(), context: Self.context(resume: copy))
        #expect(carried.resumedAtEpoch == 1)
        #expect(carried.devAccuracy == straight.devAccuracy)
        #expect(try Self.weights(carried.checkpoint) == Self.weights(straight.checkpoint))
        // Another worker with neither.
        let elsewhere = try Self.run(promoted, on: NASExecutor())
        #expect(elsewhere.resumedAtEpoch == 0, "another worker does not hold it")
        #expect(elsewhere.devAccuracy == straight.devAccuracy)
        #expect(try Self.weights(elsewhere.checkpoint) == Self.weights(straight.checkpoint))
        // Refused before anything trains: both kinds of state at once, a kept state for a
        // trial that starts at 0, an id longer than any a worker makes.
        var both = promoted
        both.checkpoint = here.checkpoint
        var fromZero = Self.trialTask(end: 3)
        fromZero.keptCheckpoint = kept.keptCheckpoint
        var long = promoted
        long.keptCheckpoint = String(repeating: "x", count: NASTrialRules.maximumKeptIDBytes + 1)
        for task in [both, fromZero, long] {
            #expect(throws: TaskError.self) { try Self.run(task, on: worker) }
        }
        // The cache is bounded by bytes: the oldest state goes first.
        let small = KeptCheckpoints(capacityBytes: 10)
        let first = small.keep(Data(count: 6))
        let second = small.keep(Data(count: 6))
        let huge = small.keep(Data(count: 11))
        #expect(small.kept(first) == nil && small.kept(second)?.count == 6 && small.kept(huge) == nil && Set([first, second, huge]).count == 3)
    }

    @Test("an attempt resumed from the last committed epoch (a worker killed mid-trial) ends as the undisturbed one")
    func killedTrialResumes() throws {
        let commits = CheckpointBox()
        let undisturbed = try Self.run(Self.trialTask(end: 3), context: Self.context(commits: commits))
        #expect(commits.all.map(\.step) == [1, 2], "one checkpoint per epoch before the last")
        let resumed = try Self.run(Self.trialTask(end: 3), context: Self.context(resume: commits.all.last))
        #expect(resumed.resumedAtEpoch == 2)
        #expect(resumed.devAccuracy == undisturbed.devAccuracy)
        #expect(try Self.weights(resumed.checkpoint) == Self.weights(undisturbed.checkpoint))
    }

    @Test("the architecture's parameter count, worked out from its description, is the built model's")
    func parameterCounts() throws {
        let space = try Self.planner(Self.spec()).plan.space
        var generator = SplitMix64(seed: 1)
        for _ in 0..<50 {
            let configuration = space.sample(using: &generator)
            let recipe = try ArchitectureRecipe(configuration.values, imageShape: [1, 8, 8], classes: 10, subject: "t")
            let counted = try recipe.architecture.parameterCount(imageShape: [1, 8, 8], classes: 10)
            #expect(counted == recipe.architecture.make(imageShape: [1, 8, 8], classes: 10, seed: 1).model.parameterCount, "\(configuration)")
        }
    }

    @Test("the winner's `train` spec retrains it to the same weights as the search's final retraining")
    func winnerRunsUnderTrain() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nas-winner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = directory.appendingPathComponent("final.safetensors").path
        let planner = try Self.planner(Self.spec(strategy: "random", budget: 27, extra: "final: {top: 1, epochs: 2, save: \(saved)}"))
        var open = planner.start()
        var finalTask: PlannedTask?
        while !open.isEmpty {
            let task = open.removeFirst()
            if task.key.hasPrefix("final") {
                finalTask = task
                let output = try NASWorkload().makeExecutor().execute(task.payload, context: Self.context())
                open += planner.consume(TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w"))
            } else {
                open += planner.consume(try Self.fakeOutcome(task))
            }
        }
        #expect(finalTask != nil && planner.isComplete)
        let report = planner.report()
        #expect(report.text.contains("test accuracy"))
        let winner = try #require(report.files["winner.yaml"])
        let retrained = directory.appendingPathComponent("train.safetensors").path
        let job = try JobSpec.parse(yaml: winner.replacingOccurrences(of: "save: \(saved)", with: "save: \(retrained)"), source: "winner.yaml", registry: .builtIn)
        let result = try LocalJobRunner.run(job)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        let (a, _, _) = try Safetensors.decode(try Data(contentsOf: URL(fileURLWithPath: saved)), source: saved)
        let (b, _, _) = try Safetensors.decode(try Data(contentsOf: URL(fileURLWithPath: retrained)), source: retrained)
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for (name, tensor) in a {
            #expect(tensor.storage.withUnsafeBufferPointer { Array($0) } == b[name]?.storage.withUnsafeBufferPointer { Array($0) }, "\(name) differs")
        }
    }
}
