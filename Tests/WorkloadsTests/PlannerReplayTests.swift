import Foundation
import Testing
import Tensor
import Wire

@testable import Workloads

/// The `Planner` contract a coordinator's ledger relies on after a restart: a planner
/// built again from its spec and given, after `start`, the same outcomes in the same order
/// is in the same state — it reports the same, and the tasks it planned without an outcome
/// are exactly the original's. Checked for every built-in kind, with outcomes arriving out
/// of planning order (as workers return them) and the rebuild cut at several points.
@Suite("Planner replay (every workload)")
struct PlannerReplayTests {
    typealias Answer = (PlannedTask, any Planner) throws -> TaskOutcome

    private static func planner(_ yaml: String) throws -> any Planner {
        try JobSpec.parse(yaml: yaml, source: "replay.yaml", registry: .builtIn).planner
    }

    /// Runs `yaml` to its end, answering tasks in a seeded random order; at every cut
    /// (and at the end) rebuilds a second planner by replay and compares the two.
    private static func check(_ yaml: String, cuts: Set<Int>, answer: Answer) throws {
        let original = try planner(yaml)
        var open = original.start()
        var outcomes: [TaskOutcome] = []
        var generator = SplitMix64(seed: 11)
        try compare(original, open: open, rebuiltFrom: yaml, outcomes: [])
        var compared = 1
        while !open.isEmpty {
            let task = open.remove(at: Int(generator.next() % UInt64(open.count)))
            let outcome = try answer(task, original)
            outcomes.append(outcome)
            open += original.consume(outcome)
            if cuts.contains(outcomes.count) || open.isEmpty {
                try compare(original, open: open, rebuiltFrom: yaml, outcomes: outcomes)
                compared += 1
            }
        }
        #expect(original.isComplete)
        #expect(compared >= 2, "the job ended after \(outcomes.count) outcomes, before most cuts")
    }

    private static func compare(_ original: any Planner, open: [PlannedTask], rebuiltFrom yaml: String, outcomes: [TaskOutcome]) throws {
        let rebuilt = try planner(yaml)
        var planned: [String: PlannedTask] = [:]
        for task in rebuilt.start() { planned[task.key] = task }
        for outcome in outcomes {
            planned[outcome.key] = nil
            for task in rebuilt.consume(outcome) { planned[task.key] = task }
        }
        let at = "after \(outcomes.count) outcomes"
        #expect(Set(planned.keys) == Set(open.map(\.key)), "\(at): open tasks differ")
        for task in open { #expect(planned[task.key] == task, "\(at): task \(task.key) differs") }
        #expect(rebuilt.report() == original.report(), "\(at): reports differ")
        #expect(rebuilt.isComplete == original.isComplete)
        #expect(rebuilt.failureReason == original.failureReason)
        #expect(rebuilt.statusLine == original.statusLine)
    }

    private static func success(_ task: PlannedTask, _ output: TaskOutput = TaskOutput()) -> TaskOutcome {
        TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w")
    }

    @Test("noop: the window and the outcome bitmap")
    func noop() throws {
        try Self.check("name: r\nworkload: noop\nnoop:\n  tasks: 300\n", cuts: [1, 17, 150, 299]) { task, _ in
            // Every 7th task fails for good: failures are replayed too.
            Int(task.key)! % 7 == 3
                ? TaskOutcome(key: task.key, result: .failure("boom"), attempts: 3, workerID: "w") : Self.success(task)
        }
    }

    @Test("sweep: adaptive rounds around the best points so far, answered by the real executor")
    func sweep() throws {
        let executor = try SweepWorkload().makeExecutor()
        let yaml = """
            name: r
            workload: sweep
            sweep: {function: rastrigin, dimensions: 3, strategy: random, points: 60, rounds: 5, batch: 4, seed: 3}
            """
        try Self.check(yaml, cuts: [1, 14, 15, 16, 40, 70]) { task, _ in
            let context = TaskContext(taskID: task.key, attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
            return Self.success(task, try executor.execute(task.payload, context: context))
        }
    }

    @Test("train: one task, its metrics in the report")
    func train() throws {
        try Self.check("name: r\nworkload: train\ntrain:\n  dataset: digits\n  epochs: 1\n", cuts: [1]) { task, _ in
            Self.success(task, TaskOutput(metrics: ["test_accuracy": 0.93, "epochs": 1, "samples_per_second": 1234]))
        }
    }

    @Test("pipeline: the gang task and the one-worker comparison, answered in either order")
    func pipeline() throws {
        let yaml = "name: r\nworkload: pipeline\npipeline:\n  model: mlp\n  dataset: digits\n  hidden: [8, 8]\n  stages: 2\n  batch_size: 8\n  compare_single: true\n"
        try Self.check(yaml, cuts: [1]) { task, _ in
            Self.success(task, TaskOutput(metrics: ["test_accuracy": task.key == "single" ? 0.9 : 0.91, "stages": task.key == "single" ? 1 : 2, "samples_per_second": 100]))
        }
    }

    @Test("compress: bases, then every method of a seed with its base's weights, answered by the real executor out of order")
    func compress() throws {
        let executor = try CompressWorkload().makeExecutor()
        try Self.check(CompressTests.yaml, cuts: [1, 3, 6, 9]) { task, _ in
            Self.success(task, try executor.execute(task.payload, context: CompressTests.context(task.key)))
        }
    }

    @Test("meta-learn: one task answered by the real executor, its episodes' accuracies in the report")
    func metaLearn() throws {
        let yaml = "name: r\nworkload: meta-learn\nmeta-learn:\n  algorithm: reptile\n  meta_steps: 3\n  meta_batch: 2\n  hidden: [16]\n  eval_episodes: 4\n"
        let executor = try MetaLearnWorkload().makeExecutor()
        try Self.check(yaml, cuts: [1]) { task, _ in
            let context = TaskContext(taskID: "r/\(task.key)", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
            return Self.success(task, try executor.execute(task.payload, context: context))
        }
    }

    @Test("prompt search: evolution with paraphrases or score-fed proposals, the test split and the best prompt's explanation", arguments: [false, true])
    func promptSearch(feedback: Bool) throws {
        // Batches of 4 and two trials at once: more tasks, out of order.
        let section = PromptSearchPlannerTests.evolutionWithParaphrases
            .replacingOccurrences(of: "batch: 8", with: "batch: 4").replacingOccurrences(of: "concurrent_trials: 1", with: "concurrent_trials: 2")
            .replacingOccurrences(of: "every: 2}", with: "every: 2, feedback: \(feedback)}")
        let yaml = "name: r\nworkload: prompt-search\nprompt-search:\n" + section + "\n  explain: {texts: 2, steps: 4}\n"
        try Self.check(yaml, cuts: [1, 2, 5, 9, 13, 20]) { task, planner in
            try PromptSearchPlannerTests.answer(task, try #require(planner as? PromptSearchPlanner))
        }
    }

    @Test("prompt tune: many problems × seeds × variants, answered out of order, the report's paired intervals over runs")
    func promptTune() throws {
        let yaml = """
            name: r
            workload: prompt-tune
            prompt-tune:
              model: minilm
              problems: {task: wordnet-glosses, class_split: meta-test, ways: 4, count: 3}
              seeds: [1, 2]
              variants: [zero-shot, soft-prompt/random, linear-probe]
            """
        try Self.check(yaml, cuts: [1, 5, 11, 17]) { task, _ in
            let payload = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptTuneTask.self, from: task.payload)
            var result = Orrery_V1_Workloads_PromptTuneResult()
            result.variant = payload.variant
            result.problem = "p\(payload.problem.draw)"
            result.seed = payload.seed
            // Hits that differ by variant, problem and seed.
            var generator = SplitMix64(seed: payload.problem.draw &+ payload.seed &* 31 &+ UInt64(payload.variant.count))
            result.hits = (0..<20).map { _ in generator.next() % 3 != 0 }
            result.discreteHits = (0..<20).map { _ in generator.next() % 2 == 0 }
            return Self.success(task, TaskOutput(payload: try result.serializedData()))
        }
    }

    @Test("prompt tune with a teacher: its students are planned with its logits, the same ones after a replay")
    func promptTuneDistillation() throws {
        let yaml = "name: r\nworkload: prompt-tune\nprompt-tune:\n" + PromptTuneTests.distillation.replacingOccurrences(of: "seeds: [1]", with: "")
            + "\n  seeds: [1, 2, 3]\n"
        try Self.check(yaml, cuts: [1, 2, 4, 7]) { task, _ in
            let payload = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptTuneTask.self, from: task.payload)
            var result = Orrery_V1_Workloads_PromptTuneResult()
            (result.variant, result.problem, result.seed) = (payload.variant, "p", payload.seed)
            var generator = SplitMix64(seed: payload.seed &* 31 &+ UInt64(payload.variant.count))
            result.hits = (0..<20).map { _ in generator.next() % 3 != 0 }
            result.discreteHits = (0..<20).map { _ in generator.next() % 2 == 0 }
            if payload.method == "teacher" { result.teacherLogits = (0..<(24 * 3)).map { _ in Float(generator.next() % 100) / 10 } }
            return Self.success(task, TaskOutput(payload: try result.serializedData()))
        }
    }

    @Test("nas: ASHA promotions on crafted results, answered out of order; Hyperband; the finals")
    func nas() throws {
        for strategy in ["asha", "hyperband", "evolution"] {
            let yaml = NASTests.spec(strategy: strategy, budget: 45, extra: "final: {top: 2, epochs: 2}")
            try Self.check(yaml, cuts: [1, 4, 9, 15]) { task, _ in try NASTests.fakeOutcome(task) }
        }
    }
}
