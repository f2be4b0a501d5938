import ArgumentParser
import Client
import Foundation
import Messaging
import Runtime
import Synchronization
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

    @Option(name: .long, help: "Coordinator ledger: on, off, or both (side by side, runs interleaved).")
    var ledger: Mode = .both

    @Option(name: .long, help: "CURVE on the control plane: on, off, or both (side by side, runs interleaved).")
    var curve: Mode = .off

    @Option(name: .long, help: "Observed: the coordinator with --http and the workers with --metrics (Prometheus on), the dashboard's API read every second and /metrics scraped every 5 s while jobs run; on, off, or both.")
    var http: Mode = .off

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case on, off, both

        var settings: [Bool] { self == .both ? [false, true] : [self == .on] }
    }

    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        /// Whether the coordinator kept its ledger (SQLite, group commits) during the runs.
        let ledger: Bool
        /// Whether the control plane ran CURVE.
        let curve: Bool
        /// Whether the daemons served HTTP, with a reader polling it.
        let http: Bool
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
        let ledgerCommits: UInt64
    }

    /// One coordinator and its workers, and what its runs measured.
    private final class Setup {
        let ledger: Bool
        let curve: Bool
        let http: Bool
        let cluster: LocalCluster
        var throughput: [Double] = []
        var p50: [Double] = []
        var p99: [Double] = []

        init(ledger: Bool, curve: Bool, http: Bool, cluster: LocalCluster) {
            self.ledger = ledger
            self.curve = curve
            self.http = http
            self.cluster = cluster
        }

        var name: String { "ledger \(ledger ? "on" : "off"), CURVE \(curve ? "on" : "off"), HTTP \(http ? "on" : "off")" }
    }

    func run() throws {
        LoggingSetup.bootstrap(level: .warning)
        SignalTrap.install()
        let logDirectory = LocalCluster.makeLogDirectory()
        var setups: [Setup] = []
        defer { for setup in setups { setup.cluster.stop() } }
        for withLedger in ledger.settings {
            for withCurve in curve.settings {
                for withHTTP in http.settings {
                    let directory = "\(logDirectory)/\(withLedger ? "ledger" : "memory")\(withCurve ? "-curve" : "")\(withHTTP ? "-http" : "")"
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    var settings = LocalCluster.Settings(workers: workers, slots: slots)
                    settings.stateDirectory = withLedger ? "\(directory)/state" : nil
                    settings.curve = withCurve
                    if withHTTP {
                        settings.coordinatorArguments += ["--http", "127.0.0.1:0"]
                        settings.workerArguments += ["--metrics", "127.0.0.1:0"]
                    }
                    setups.append(Setup(ledger: withLedger, curve: withCurve, http: withHTTP, cluster: try LocalCluster(settings, logDirectory: directory)))
                }
            }
        }
        let context = try ZMQContext()
        for run in 0..<repeats {
            // Interleaved, so that a noisy moment of the shared machine hits both alike.
            for setup in setups {
                let reader = setup.cluster.dashboardURL.map(DashboardReader.init)
                defer { reader?.stop() }
                let bulk = try runJob(noopSpec(name: "dispatch-throughput-\(run)", tasks: tasks, maxInFlight: 0), setup.cluster, context)
                setup.throughput.append(Double(bulk.tasksDone) / max(bulk.elapsedS, 1e-9))
                let latency = try runJob(noopSpec(name: "dispatch-latency-\(run)", tasks: latencyTasks, maxInFlight: 1), setup.cluster, context)
                setup.p50.append(latency.roundTripP50Us)
                setup.p99.append(latency.roundTripP99Us)
                if !output.json {
                    print(
                        String(
                            format: "run %d, %@: %.0f tasks/s (%d tasks in %.2f s); round trip p50 %.0f µs, p99 %.0f µs",
                            run + 1, setup.name, setup.throughput.last!, bulk.tasksDone, bulk.elapsedS,
                            setup.p50.last!, setup.p99.last!))
                }
            }
        }
        var rows: [Row] = []
        for setup in setups {
            let status = try CoordinatorClient(endpoint: setup.cluster.endpoint, context: context, curve: setup.cluster.clientCurve).status()
            rows.append(Row(
                ledger: setup.ledger, curve: setup.curve, http: setup.http, workers: workers, tasks: tasks, tasksPerSecond: setup.throughput,
                roundTripP50Micros: setup.p50, roundTripP99Micros: setup.p99,
                medianTasksPerSecond: BenchmarkOutput.median(setup.throughput), medianP50Micros: BenchmarkOutput.median(setup.p50),
                medianP99Micros: BenchmarkOutput.median(setup.p99), worstLoopTurnMicros: status.counters.worstLoopTurnUs,
                ledgerCommits: status.counters.ledgerCommits))
        }
        if output.json {
            try BenchmarkOutput.printJSON(rows)
        } else {
            for row in rows {
                print(
                    String(
                        format: "orrery dispatch, ledger %@, CURVE %@, HTTP %@, %d workers × %d slot(s): median %.0f tasks/s; round trip p50 %.0f µs, p99 %.0f µs; worst loop turn %.1f ms; %llu commits",
                        row.ledger ? "on" : "off", row.curve ? "on" : "off", row.http ? "on" : "off", workers, slots, row.medianTasksPerSecond, row.medianP50Micros, row.medianP99Micros,
                        Double(row.worstLoopTurnMicros) / 1000, row.ledgerCommits))
            }
            if rows.count == 2 {
                let what = rows[0].ledger != rows[1].ledger ? "ledger" : rows[0].curve != rows[1].curve ? "CURVE" : "HTTP"
                print(String(format: "%@ on / off: throughput %.2f, p50 %.2f", what, rows[1].medianTasksPerSecond / rows[0].medianTasksPerSecond,
                    rows[1].medianP50Micros / rows[0].medianP50Micros))
            }
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
        let job = try ClusterJobRunner.run(
            yaml: yaml, source: "<bench>", endpoint: cluster.endpoint, context: context, quiet: true, curve: cluster.clientCurve)
        guard job.state == .succeeded else {
            throw CommandFailure.exit("benchmark job failed: \(job.error)", code: CommandFailure.jobFailed)
        }
        return job
    }
}

/// Plays an open dashboard and a Prometheus server against a coordinator while a run lasts:
/// the API's overview every second, `/metrics` every 5 s, on a thread of its own.
private final class DashboardReader: Sendable {
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    init(url: String) {
        Thread.detachNewThread { [self] in
            var tick = 0
            while !stopped.withLock({ $0 }) {
                _ = try? HTTPGet.get(url + "/api/cluster")
                _ = try? HTTPGet.get(url + "/api/jobs?limit=200")
                if tick % 5 == 0 { _ = try? HTTPGet.get(url + "/metrics") }
                tick += 1
                for _ in 0..<10 where !stopped.withLock({ $0 }) { usleep(100_000) }
            }
            done.signal()
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
        done.wait()
    }
}
