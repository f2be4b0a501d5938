import ArgumentParser
import Client
import Foundation
import Messaging
import Runtime
import Wire

/// `orrery bench dispatch`: no-op tasks through a real coordinator and real worker
/// processes on loopback.
///
/// Throughput: one job of many no-op tasks, the coordinator streaming leases and workers
/// batching results, timed by the coordinator from acceptance to the last result.
/// Round trip: a job capped at one task in flight, so each lease-to-result time is a real
/// round trip through both processes; the coordinator measures it per task.
struct DispatchBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch", abstract: "No-op tasks per second and lease round-trip p50/p99.")

    @Option(name: .long, help: "Worker processes.")
    var workers = 2

    @Option(name: .long, help: "Task slots per worker.")
    var slots = 1

    @Option(name: .long, help: "No-op tasks per throughput run.")
    var tasks = 200_000

    @Option(name: .long, help: "Tasks per round-trip run (one in flight at a time).")
    var latencyTasks = 5_000

    @Option(name: .long, help: "Runs of each; medians are reported.")
    var repeats = 5

    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        let workers: Int
        let tasks: Int
        let tasksPerSecond: [Double]
        let roundTripP50Micros: [Double]
        let roundTripP99Micros: [Double]
        let medianTasksPerSecond: Double
        let medianP50Micros: Double
        let medianP99Micros: Double
        /// The coordinator's longest loop turn over all the runs (its worst deafness).
        let worstLoopTurnMicros: UInt64
    }

    func run() throws {
        LoggingSetup.bootstrap(level: .warning)
        SignalTrap.install()
        let logDirectory = LocalCluster.makeLogDirectory()
        let cluster = try LocalCluster(.init(workers: workers, slots: slots), logDirectory: logDirectory)
        defer { cluster.stop() }
        let context = try ZMQContext()
        var throughput: [Double] = []
        var p50: [Double] = []
        var p99: [Double] = []
        for run in 0..<repeats {
            let bulk = try runJob(noopSpec(name: "dispatch-throughput-\(run)", tasks: tasks, maxInFlight: 0), cluster, context)
            throughput.append(Double(bulk.tasksDone) / max(bulk.elapsedS, 1e-9))
            let latency = try runJob(noopSpec(name: "dispatch-latency-\(run)", tasks: latencyTasks, maxInFlight: 1), cluster, context)
            p50.append(latency.roundTripP50Us)
            p99.append(latency.roundTripP99Us)
            if !output.json {
                print(
                    String(
                        format: "run %d: %.0f tasks/s (%d tasks in %.2f s); round trip p50 %.0f µs, p99 %.0f µs",
                        run + 1, throughput.last!, bulk.tasksDone, bulk.elapsedS, p50.last!, p99.last!))
            }
        }
        let status = try CoordinatorClient(endpoint: cluster.endpoint, context: context).status()
        let row = Row(
            workers: workers, tasks: tasks, tasksPerSecond: throughput, roundTripP50Micros: p50, roundTripP99Micros: p99,
            medianTasksPerSecond: BenchmarkOutput.median(throughput), medianP50Micros: BenchmarkOutput.median(p50),
            medianP99Micros: BenchmarkOutput.median(p99), worstLoopTurnMicros: status.counters.worstLoopTurnUs)
        if output.json {
            try BenchmarkOutput.printJSON(row)
        } else {
            print(
                String(
                    format: "orrery dispatch, %d workers × %d slot(s): median %.0f tasks/s; round trip p50 %.0f µs, p99 %.0f µs; worst loop turn %.1f ms",
                    workers, slots, row.medianTasksPerSecond, row.medianP50Micros, row.medianP99Micros, Double(row.worstLoopTurnMicros) / 1000))
        }
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    private func noopSpec(name: String, tasks: Int, maxInFlight: Int) -> String {
        """
        name: \(name)
        workload: noop
        max_in_flight: \(maxInFlight)
        noop:
          tasks: \(tasks)
        """
    }

    private func runJob(_ yaml: String, _ cluster: LocalCluster, _ context: ZMQContext) throws -> Orrery_V1_JobInfo {
        let job = try ClusterJobRunner.run(yaml: yaml, source: "<bench>", endpoint: cluster.endpoint, context: context, quiet: true)
        guard job.state == .succeeded else {
            throw CommandFailure.exit("benchmark job failed: \(job.error)", code: CommandFailure.jobFailed)
        }
        return job
    }
}
