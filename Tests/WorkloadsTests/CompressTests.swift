import Foundation
import OrreryTestSupport
import Testing
import Wire

@testable import Workloads

/// The `compress` workload: its spec, its plan (bases first, then every method with the
/// base's weights), the real executor on the digits data set end to end, and hostile tasks.
@Suite("Compression workload")
struct CompressTests {
    static let yaml = """
        name: c
        workload: compress
        compress:
          dataset: digits
          base: {family: mlp, depth: 2, width: 32, learning_rate: 0.01, batch_size: 32}
          epochs: 3
          seeds: [1, 2]
          latency_runs: 5
          methods:
            int8: {}
            magnitude: {sparsity: 0.7, rounds: 2, finetune_epochs: 1}
            structured: {keep: 0.5, rounds: 1, finetune_epochs: 1}
            distill: {student: {family: mlp, depth: 1, width: 8, learning_rate: 0.01, batch_size: 32}, temperature: 3, alpha: 0.5, epochs: 2}

        """

    static func context(_ key: String) -> TaskContext {
        TaskContext(taskID: "c/\(key)", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
    }

    static func planner(_ yaml: String = yaml) throws -> CompressPlanner {
        try #require(try JobSpec.parse(yaml: yaml, source: "c.yaml", registry: .builtIn).planner as? CompressPlanner)
    }

    @Test("The spec gives the base, each method, and the student alone beside distillation; bad fields are named")
    func spec() throws {
        let planner = try Self.planner()
        #expect(planner.spec.methods.map(\.method) == ["base", "int8", "magnitude", "structured", "distill", "student"])
        #expect(planner.spec.methods.first { $0.method == "student" }?.studentSettings["width"] == "8")
        #expect(planner.expectedTaskCount == 12)
        for (edit, expected) in [
            ("int8: {}", "unknown method"),
            ("sparsity: 0.7", "sparsity"),
            ("keep: 0.5", "keep"),
            ("temperature: 3", "temperature"),
            ("epochs: 3", "epochs"),
        ] {
            let broken = Self.yaml
                .replacingOccurrences(of: "int8: {}", with: edit == "int8: {}" ? "quantum: {}" : "int8: {}")
                .replacingOccurrences(of: "sparsity: 0.7", with: edit == "sparsity: 0.7" ? "sparsity: 1.5" : "sparsity: 0.7")
                .replacingOccurrences(of: "keep: 0.5", with: edit == "keep: 0.5" ? "keep: 0" : "keep: 0.5")
                .replacingOccurrences(of: "temperature: 3", with: edit == "temperature: 3" ? "temperature: -1" : "temperature: 3")
                .replacingOccurrences(of: "epochs: 3\n", with: edit == "epochs: 3" ? "epochs: 0\n" : "epochs: 3\n")
            do {
                _ = try Self.planner(broken)
                Issue.record("\(expected): accepted")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        #expect(throws: SpecError.self) { try Self.planner(Self.yaml.replacingOccurrences(of: "depth: 2, width: 32", with: "depth: 2, widht: 32")) }
        #expect(throws: SpecError.self) { try Self.planner(Self.yaml.replacingOccurrences(of: "seeds: [1, 2]", with: "seeds: [1, 1]")) }
    }

    @Test("Bases and students first; a base's weights go to every method of its seed; a failed base ends its seed")
    func plan() throws {
        let planner = try Self.planner()
        let first = planner.start()
        #expect(first.map(\.key) == ["base/seed-1", "student/seed-1", "base/seed-2", "student/seed-2"])
        var base = Orrery_V1_Workloads_CompressResult()
        base.weights = Data("weights".utf8)
        base.testAccuracy = 0.9
        let next = planner.consume(TaskOutcome(key: "base/seed-1", result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(base))), attempts: 1, workerID: "w"))
        #expect(next.map(\.key) == ["int8/seed-1", "magnitude/seed-1", "structured/seed-1", "distill/seed-1"])
        for task in next {
            let payload = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_CompressTask.self, from: task.payload)
            #expect(payload.baseWeights == Data("weights".utf8) && payload.seed == 1)
        }
        // A base whose result carries no weights counts as failed, once.
        let noWeights = TaskOutcome(key: "base/seed-2", result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(Orrery_V1_Workloads_CompressResult()))), attempts: 1, workerID: "w")
        #expect(planner.consume(noWeights).isEmpty)
        #expect(planner.results["base/seed-2"] == nil)
        #expect(planner.failureReason == nil)
        let empty = TaskOutcome(key: "student/seed-1", result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(Orrery_V1_Workloads_CompressResult()))), attempts: 1, workerID: "w")
        _ = planner.consume(empty)
        _ = planner.consume(TaskOutcome(key: "student/seed-2", result: .failure("x"), attempts: 1, workerID: "w"))
        #expect(!planner.isComplete)
        for task in next { _ = planner.consume(TaskOutcome(key: task.key, result: .failure("x"), attempts: 1, workerID: "w")) }
        #expect(planner.isComplete)
        #expect(planner.report().text.contains("failed base/seed-2: the base result carries no weights"))
    }

    @Test("Run for real on digits: int8 within a point of its base at ~¼ the bytes, magnitude at its sparsity, neurons physically removed")
    func endToEnd() throws {
        let planner = try Self.planner()
        let executor = try CompressWorkload().makeExecutor()
        var open = planner.start()
        while !open.isEmpty {
            let task = open.removeFirst()
            let output = try executor.execute(task.payload, context: Self.context(task.key))
            open += planner.consume(TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w"))
        }
        #expect(planner.isComplete)
        for seed in [UInt64(1), 2] {
            func result(_ method: String) throws -> Orrery_V1_Workloads_CompressResult {
                try #require(planner.results[CompressPlanner.key(method, seed)])
            }
            let base = try result("base"), int8 = try result("int8"), magnitude = try result("magnitude"), structured = try result("structured")
            #expect(base.testAccuracy > 0.85, "digits MLP: \(base.testAccuracy)")
            #expect(int8.baseAccuracy == base.testAccuracy)  // the worker rebuilt the same base from its weights
            #expect(abs(int8.testAccuracy - base.testAccuracy) <= 0.01)
            #expect(Double(int8.bytes) < Double(base.bytes) / 3)
            #expect(abs(magnitude.sparsity - 0.7) < 0.01)
            #expect(magnitude.parameters == base.parameters && magnitude.bytes < base.bytes)
            // 64 inputs, hidden 32 and 32 → 16 and 16 kept, 10 classes.
            let kept: UInt64 = 64 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
            #expect(structured.parameters == kept)
            #expect(structured.multiplyAdds * 2 < base.multiplyAdds)
            #expect(try result("distill").parameters == result("student").parameters)
        }
        let report = planner.report()
        #expect(report.text.contains("int8"))
        #expect(report.files["compress.csv"]?.split(separator: "\n").count == 13)
        // The dashboard's front: one point per method, the front as the report marks it.
        let front = try #require(planner.paretoSet())
        #expect(front.objectives == ["test_accuracy", "bytes", "latency_ms"] && front.maximize == [true, false, false])
        #expect(front.points.count == 6 && front.points.contains { $0.onFront })
        let methods = try #require((try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])?["methods"] as? [[String: Any]])
        #expect(front.points.map(\.onFront) == methods.map { $0["onFront"] as? Bool ?? false }, "\(report.json)")
    }

    typealias Edit = HostileEdit<Orrery_V1_Workloads_CompressTask>

    @Test(
        "Every out-of-range field is refused by name before a model is built",
        arguments: [
            Edit("unknown method 'zip'") { $0.method = "zip" },
            Edit("unknown dataset 'imagenet'") { $0.dataset = "imagenet" },
            Edit("needs the trained base model's weights") { $0.method = "int8"; $0.baseWeights = Data() },
            Edit("takes no base weights") { $0.baseWeights = Data([1]) },
            Edit("exceed") { $0.method = "int8"; $0.baseWeights = Data(count: (32 << 20) + 1) },
            Edit("epochs must be in") { $0.epochs = 0 },
            Edit("latency_runs must be in") { $0.latencyRuns = 0 },
            Edit("magnitude amount") { $0.method = "magnitude"; $0.baseWeights = Data([1]); $0.amount = 1; $0.rounds = 1 },
            Edit("structured amount") { $0.method = "structured"; $0.baseWeights = Data([1]); $0.amount = .nan; $0.rounds = 1 },
            Edit("rounds must be in") { $0.method = "magnitude"; $0.baseWeights = Data([1]); $0.amount = 0.5; $0.rounds = 0 },
            Edit("finetune_learning_rate") { $0.method = "structured"; $0.baseWeights = Data([1]); $0.amount = 0.5; $0.rounds = 1; $0.finetuneLearningRate = -1 },
            Edit("temperature must be in") { $0.method = "distill"; $0.baseWeights = Data([1]); $0.studentSettings = ["family": "mlp", "depth": "0"]; $0.temperature = 0; $0.alpha = 0.5 },
            Edit("alpha must be in") { $0.method = "distill"; $0.baseWeights = Data([1]); $0.studentSettings = ["family": "mlp", "depth": "0"]; $0.temperature = 2; $0.alpha = 2 },
            Edit("student settings must list") { $0.method = "student" },
            Edit("has no student") { $0.studentSettings = ["family": "mlp", "depth": "0"] },
            Edit("width_1 (or width) is required") { $0.baseSettings = ["family": "mlp", "depth": "1"] },
            Edit("this base has none") { $0.method = "structured"; $0.baseWeights = Data([1]); $0.amount = 0.5; $0.rounds = 1; $0.baseSettings = ["family": "mlp", "depth": "0"] },
            Edit("base weights") { $0.method = "int8"; $0.baseWeights = Data("not safetensors".utf8) },
        ])
    func refusals(edit: Edit) throws {
        var task = Orrery_V1_Workloads_CompressTask()
        (task.method, task.dataset, task.baseSettings, task.seed, task.epochs, task.latencyRuns) = ("base", "digits", ["family": "mlp", "depth": "1", "width": "8"], 1, 1, 1)
        edit.change(&task)
        let executor = try CompressWorkload().makeExecutor()
        do {
            _ = try executor.execute(EnvelopeCodec.encodePayload(task), context: Self.context("x"))
            Issue.record("the task ran")
        } catch let error as TaskError {
            #expect(!error.retryable)
            #expect(error.message.contains(edit.expected), "\(error.message)")
        }
    }
}
