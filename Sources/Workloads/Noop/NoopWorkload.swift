import Foundation
import Wire

/// Tasks that do nothing (or sleep), to measure dispatch and to test fault tolerance:
/// its planner checks that every task's outcome arrives exactly once.
///
/// ```yaml
/// noop:
///   tasks: 100000       # how many (required)
///   sleep_ms: 0         # each task holds this long
///   padding_bytes: 0    # extra payload bytes
///   window: 10000       # tasks planned ahead of outcomes; the planner streams the rest
/// ```
public struct NoopWorkload: Workload {
    public init() {}

    public var kind: String { "noop" }
    public var summary: String { "tasks that do nothing: dispatch benchmarks and fault-tolerance tests" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        let tasks = try section.required("tasks").int(in: 1...100_000_000)
        let sleep = try section.optional("sleep_ms")?.int(in: 0...3_600_000) ?? 0
        let padding = try section.optional("padding_bytes")?.int(in: 0...16 << 20) ?? 0
        // Tasks planned ahead are held by the coordinator (at most 100,000 at a time), and
        // all of the first window is planned, enqueued and recorded in one turn of its loop:
        // 10,000 keeps that turn near 20 ms while keeping any number of workers fed.
        let window = try section.optional("window")?.int(in: 1...100_000) ?? 10_000
        var task = Orrery_V1_Workloads_NoopTask()
        task.sleepMs = UInt32(sleep)
        task.padding = Data(repeating: 0xA5, count: padding)
        return NoopPlanner(taskCount: tasks, window: window, payload: EnvelopeCodec.encodePayload(task))
    }

    public func makeExecutor() throws -> any Executor { NoopExecutor() }
}
