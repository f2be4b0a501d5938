import ArgumentParser
import Coordinator
import Dashboard
import Foundation
import Observability
import Ledger
import Logging
import Messaging
import Runtime

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator daemon: plans jobs and leases their tasks to workers.",
        discussion: """
            Workers and clients connect to the bound endpoint. On SIGTERM or SIGINT the
            coordinator drains: it takes no new jobs and leases no new tasks, waits up to
            --drain-timeout for running tasks to report, then exits 0. A second signal stops at once.

            Jobs, their open tasks, accepted results and checkpoints are kept in a ledger
            (SQLite) in --state-dir: a coordinator started again on the same directory, after
            a drain or a kill -9, resumes every unfinished job, and workers that still run its
            tasks keep them. --ephemeral keeps everything in memory instead.
            """)

    @Option(name: .long, help: "Endpoint to bind (repeatable), e.g. tcp://0.0.0.0:7100; tcp://127.0.0.1:* picks a free port.")
    var bind: [String] = ["tcp://127.0.0.1:7100"]

    @OptionGroup var heartbeat: HeartbeatOptions

    @Option(name: .long, help: "After SIGTERM, how long running tasks may take to report.")
    var drainTimeout = DurationArgument(milliseconds: 30_000)

    @Option(name: .long, help: "Write the bound endpoints to this file once listening (for launchers).")
    var readyFile: String?

    @Option(name: .long, help: "How long a gang task waits for its maximum number of free workers before starting with its minimum.")
    var gangGather = DurationArgument(milliseconds: 2_000)

    @Option(name: .long, help: "How long one collective call of a gang may wait on a member before failing.")
    var collectiveTimeout = DurationArgument(milliseconds: 30_000)

    @Option(name: .long, help: "Also write committed checkpoints to this directory (default: memory only).")
    var checkpointDir: String?

    @Option(name: .long, help: "Directory of the coordinator's ledger (default: $XDG_DATA_HOME/orrery/coordinator, or ~/.local/share/orrery/coordinator).")
    var stateDir: String?

    @Flag(name: .long, help: "Keep no ledger: jobs are lost when the coordinator stops.")
    var ephemeral = false

    @Option(name: .long, help: "When ledger commits reach the disk: normal (a power loss may roll back the last commits) or full (fsync before anything is sent).")
    var ledgerDurability: LedgerDurability = .normal

    @Option(name: .long, help: "Ended jobs the ledger keeps for status and jobs (the newest); older ones are deleted as new ones end.")
    var keepJobs = 10_000

    @Option(name: .long, help: "Workers admitted at once; more registrations are refused (REJECT_CLUSTER_FULL).")
    var maxWorkers = 4096

    @Option(name: .long, help: "Jobs running at once; more submissions are refused (REJECT_TOO_MANY_JOBS).")
    var maxJobs = 256

    @Option(name: .long, help: "Tasks held at once (queued and running; finished ones leave memory); a job whose first batch does not fit is refused.")
    var maxHeldTasks = 2_000_000

    @Option(name: .long, help: "Client requests answered per peer per second (after a burst of 50); more are refused (REJECT_RATE_LIMITED).")
    var clientRate = 20.0

    @OptionGroup var curve: CurveOptions
    @OptionGroup var web: HTTPOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var child: ChildOptions

    func validate() throws {
        if ephemeral && stateDir != nil { throw ValidationError("--ephemeral and --state-dir exclude each other") }
        if keepJobs < 1 { throw ValidationError("--keep-jobs must be at least 1") }
        if maxWorkers < 1 { throw ValidationError("--max-workers must be at least 1") }
        if maxJobs < 1 { throw ValidationError("--max-jobs must be at least 1") }
        if maxHeldTasks < 1 { throw ValidationError("--max-held-tasks must be at least 1") }
        if !(clientRate > 0) || !clientRate.isFinite { throw ValidationError("--client-rate must be a positive number") }
        if web.metrics != nil { throw ValidationError("the coordinator serves /metrics on its --http address; --metrics is for workers") }
        _ = try web.binding(web.http)
        _ = try web.token()
    }

    func run() async throws {
        logging.bootstrap()
        if let parent = child.parentPid { ParentWatch.exitWithParent(parent) }
        var config = CoordinatorConfig()
        config.endpoints = bind
        config.liveness = LivenessPolicy(
            intervalMilliseconds: heartbeat.heartbeatInterval.milliseconds, misses: heartbeat.heartbeatMisses)
        config.drainTimeoutMilliseconds = drainTimeout.milliseconds
        config.readyFile = readyFile
        config.gangGatherMilliseconds = Int64(gangGather.milliseconds)
        config.collectiveTimeoutMilliseconds = collectiveTimeout.milliseconds
        config.checkpointDirectory = checkpointDir
        config.stateDirectory = ephemeral ? nil : (stateDir ?? Self.defaultStateDirectory)
        config.ledgerDurability = ledgerDurability
        config.ledgerKeepJobs = keepJobs
        config.maxWorkers = maxWorkers
        config.maxRunningJobs = maxJobs
        config.maxHeldTasks = maxHeldTasks
        config.clientRequestsPerSecond = clientRate
        config.curve = try curve.resolved(for: .coordinator)
        let logger = Logger(label: "orrery.coordinator")
        let reloads = await CurveOptions.reloadOnHangup(config.curve, logger: logger)
        defer { reloads?.cancel() }
        let binding = try web.binding(web.http)
        // Metrics made before the backend is installed would never be exported.
        if binding != nil { PrometheusExport.bootstrap() }
        let queries = CoordinatorQueries()
        let server = try await web.start(binding, logger: logger) { Dashboard.addRoutes(to: $0, queries: queries) }
        if let server, let binding { config.advertisedURLs = [binding.url(port: server.port)] }
        let context = try ZMQContext.forProcess()
        let lifecycle = DaemonLifecycle(
            gracefulShutdownLimit: .milliseconds(drainTimeout.milliseconds + 5_000), logger: logger)
        do {
            try await lifecycle.run(name: "coordinator") { [config] mailbox in
                try CoordinatorService(config: config, queries: queries, logger: logger).run(context: context, mailbox: mailbox)
            }
        } catch {
            await server?.stop()
            logger.critical("coordinator failed: \(error)")
            throw ExitCode(3)
        }
        await server?.stop()
    }

    static var defaultStateDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".local/share")
        return (base as NSString).appendingPathComponent("orrery/coordinator")
    }
}

extension LedgerDurability: ExpressibleByArgument {}
