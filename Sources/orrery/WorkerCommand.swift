import ArgumentParser
import Foundation
import Hummingbird
import Observability
import Logging
import Messaging
import Runtime
import Worker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker daemon: registers with a coordinator and runs the tasks it leases.",
        discussion: """
            When the coordinator goes silent the worker reconnects with exponential backoff
            and registers again, keeping the tasks it is running. On SIGTERM or SIGINT it
            finishes running tasks (up to --grace-period), reports them, and exits 0.
            Exit status 3: the coordinator refused this worker (e.g. protocol version).
            """)

    @OptionGroup var endpoint: EndpointOptions

    @Option(name: .long, help: "Worker name, unique in the cluster (default: host-pid).")
    var id: String?

    @Option(name: .long, help: "Tasks run at once (default: the number of cores).")
    var slots: Int?

    @OptionGroup var heartbeat: HeartbeatOptions
    @OptionGroup var web: HTTPOptions

    @Option(name: .long, help: "After SIGTERM, how long running tasks may take to finish.")
    var gracePeriod = DurationArgument(milliseconds: 10_000)

    @Option(name: .long, help: "Where the data plane (all-reduce traffic from gang peers) listens; 'none' disables gang tasks.")
    var dataBind = "tcp://0.0.0.0:*"

    @Option(name: .long, help: "Host name or address peers on other hosts use for the data plane (default: this host's name).")
    var dataHost: String?

    @Flag(name: .long, help: "Do not offer an ipc:// data plane to peers on this host (they then use TCP).")
    var noLocalIpc = false

    @Option(name: .long, help: "The only directory tasks may write files into (a train job's saved weights; default: the working directory).")
    var outputDir: String?

    @Option(name: .long, help: "Checkpoints larger than this many bytes go to files in --output-dir, which the workers must share (default: 16 MiB).")
    var checkpointInlineLimit: Int?

    @Option(name: .long, help: "Most leases held at once, running and queued ahead (default: the coordinator decides).")
    var prefetch: Int?

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var child: ChildOptions

    func validate() throws {
        if let slots, slots < 1 { throw ValidationError("--slots must be at least 1") }
        if let slots, slots > 1024 { throw ValidationError("--slots must be at most 1024") }
        if let id, id.isEmpty || id.utf8.count > 200 { throw ValidationError("--id must be 1 to 200 bytes") }
        if let prefetch, let slots, prefetch < slots { throw ValidationError("--prefetch must be at least --slots (\(slots))") }
        if let prefetch, prefetch < 1 { throw ValidationError("--prefetch must be at least 1") }
    }

    func run() async throws {
        logging.bootstrap()
        if let parent = child.parentPid { ParentWatch.exitWithParent(parent) }
        var config = WorkerConfig(
            coordinatorEndpoint: endpoint.coordinator, workerID: id ?? WorkerConfig.defaultWorkerID(),
            slots: slots ?? ProcessInfo.processInfo.activeProcessorCount)
        config.heartbeatIntervalMilliseconds = Int64(heartbeat.heartbeatInterval.milliseconds)
        config.heartbeatMisses = Int64(heartbeat.heartbeatMisses)
        config.gracePeriodMilliseconds = Int64(gracePeriod.milliseconds)
        config.dataBind = dataBind == "none" ? nil : dataBind
        config.dataHost = dataHost
        config.dataLocalIPC = !noLocalIpc
        if let outputDir { config.outputDirectory = outputDir }
        if let checkpointInlineLimit {
            guard checkpointInlineLimit > 0, checkpointInlineLimit <= Int(SocketPolicy.maximumControlMessageBytes) / 2 else {
                throw CommandFailure.exit("--checkpoint-inline-limit must be 1 to \(SocketPolicy.maximumControlMessageBytes / 2) bytes", code: CommandFailure.invalidInput)
            }
            config.checkpointInlineLimit = checkpointInlineLimit
        }
        if let prefetch { config.maxPrefetch = max(prefetch, config.slots) }
        config.curve = try endpoint.curve.resolved(for: .worker(dataPlane: config.dataBind != nil))
        let logger = Logger(label: "orrery.worker")
        let reloads = await CurveOptions.reloadOnHangup(config.curve, logger: logger)
        defer { reloads?.cancel() }
        if web.http != nil { throw ValidationError("a worker serves no dashboard; give --metrics ADDRESS for its /metrics") }
        let binding = try web.binding(web.metrics)
        if binding != nil { PrometheusExport.bootstrap() }
        let server = try await web.start(binding, logger: logger) { $0.addMetricsRoute() }
        let context = try ZMQContext.forProcess()
        let lifecycle = DaemonLifecycle(
            gracefulShutdownLimit: .milliseconds(gracePeriod.milliseconds + 5_000), logger: logger)
        let outcome: WorkerExit
        do {
            outcome = try await lifecycle.run(name: "worker") { [config] mailbox in
                try WorkerService(config: config, logger: logger).run(context: context, mailbox: mailbox)
            }
        } catch {
            await server?.stop()
            logger.critical("worker failed: \(error)")
            throw ExitCode(3)
        }
        await server?.stop()
        switch outcome {
        case .stopped, .shutdownRequested: return
        case .refused: throw ExitCode(3)
        }
    }
}
