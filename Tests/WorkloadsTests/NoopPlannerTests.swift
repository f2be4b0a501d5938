import Testing
import Workloads

@Suite("Noop planner")
struct NoopPlannerTests {
    func planner(tasks: Int, window: Int) throws -> any Planner {
        try JobSpec.parse(
            yaml: "name: n\nworkload: noop\nnoop:\n  tasks: \(tasks)\n  window: \(window)\n", source: "t", registry: .builtIn
        ).planner
    }

    @Test("streams tasks within its window and completes on the last outcome")
    func streaming() throws {
        let planner = try planner(tasks: 10, window: 4)
        var queue = planner.start()
        #expect(queue.map(\.key) == ["0", "1", "2", "3"])
        var seen: [String] = []
        while !queue.isEmpty {
            let task = queue.removeFirst()
            seen.append(task.key)
            #expect(!planner.isComplete)
            queue += planner.consume(TaskOutcome(key: task.key, result: .success(TaskOutput()), attempts: 1, workerID: "w"))
        }
        #expect(seen == (0..<10).map(String.init))
        #expect(planner.isComplete)
        #expect(planner.failureReason == nil)
    }

    @Test("an outcome delivered twice is caught and fails the job")
    func duplicate() throws {
        let planner = try planner(tasks: 1, window: 1)
        let task = planner.start()[0]
        let outcome = TaskOutcome(key: task.key, result: .success(TaskOutput()), attempts: 1, workerID: "w")
        _ = planner.consume(outcome)
        _ = planner.consume(outcome)
        #expect(planner.failureReason?.contains("more than once") == true)
    }
}
