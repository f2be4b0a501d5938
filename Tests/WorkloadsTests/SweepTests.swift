import Foundation
import Testing
import Wire
import Workloads

@Suite("Sweep workload")
struct SweepTests {
    @Test("each benchmark function takes its known minimum at a known minimizer", arguments: [
        ("branin", [Double.pi, 2.275]), ("branin", [-Double.pi, 12.275]), ("rosenbrock", [1, 1, 1]),
        ("himmelblau", [3, 2]), ("rastrigin", [0, 0]), ("ackley", [0, 0, 0]), ("sphere", [0, 0]),
        ("six_hump_camel", [0.0898, -0.7126]),
    ])
    func knownMinima(name: String, point: [Double]) throws {
        let function = try #require(BenchmarkFunction.named(name))
        #expect(abs(function.evaluate(point) - function.minimum) < 1e-4)
        // A step away is worse: the minimum really is one.
        #expect(function.evaluate(point.map { $0 + 0.1 }) > function.minimum)
    }

    func runLocally(_ yaml: String) throws -> (ValidatedJob, Int) {
        let job = try JobSpec.parse(yaml: yaml, source: "t", registry: .builtIn)
        return (job, try LocalJobRunner.run(job).tasks)
    }

    @Test("zooming rounds bring a Branin sweep near the true minimum, reproducibly")
    func branin() throws {
        let yaml = "name: b\nworkload: sweep\nsweep:\n  function: branin\n  points: 400\n  rounds: 3\n  batch: 25\n  seed: 3\n"
        let (job, executed) = try runLocally(yaml)
        #expect(job.planner.isComplete)
        #expect(executed == job.planner.expectedTaskCount)
        let report = job.planner.report()
        let json = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        let gap = try #require(json["gap"] as? Double)
        #expect(gap >= 0 && gap < 1e-3)
        #expect(json["evaluations"] as? Int == 1200)
        let (again, _) = try runLocally(yaml)
        #expect(again.planner.report() == report)
    }

    @Test("the executor refuses a point of the wrong dimension without retrying")
    func wrongDimension() throws {
        var task = Orrery_V1_Workloads_SweepTask()
        task.function = "branin"
        var point = Orrery_V1_Workloads_SweepPoint()
        point.x = [1, 2, 3]
        task.points = [point]
        let executor = try SweepWorkload().makeExecutor()
        let context = TaskContext(taskID: "t", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        let error = #expect(throws: TaskError.self) { try executor.execute(EnvelopeCodec.encodePayload(task), context: context) }
        #expect(error?.retryable == false)
        #expect(error?.message.contains("3 coordinates") == true)
    }

    @Test("a failed task counts in the report; a sweep with no evaluations fails")
    func failures() throws {
        let job = try JobSpec.parse(
            yaml: "name: b\nworkload: sweep\nsweep:\n  function: sphere\n  strategy: random\n  points: 10\n  batch: 10\n",
            source: "t", registry: .builtIn)
        let tasks = job.planner.start()
        #expect(tasks.count == 1)
        _ = job.planner.consume(TaskOutcome(key: tasks[0].key, result: .failure("boom"), attempts: 3, workerID: "w"))
        #expect(job.planner.isComplete)
        #expect(job.planner.failureReason?.contains("boom") == true)
    }
}
