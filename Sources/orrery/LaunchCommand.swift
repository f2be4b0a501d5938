import ArgumentParser
import Foundation
import Glibc
import Messaging
import Runtime
import Wire

struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Run a job on this machine: start a coordinator and N workers, run it, stop them.",
        discussion: """
            The daemons are separate processes on loopback, as in a cluster. They are stopped
            by pid when the job ends, on Ctrl-C, and (through the kernel's parent-death
            signal) even if this process is killed. Their logs go to --log-dir, kept when the
            job fails.
            """)

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @Option(name: .long, help: "Worker processes to start.")
    var workers = 2

    @Option(name: .long, help: "Task slots per worker.")
    var slots = 1

    @Option(name: .long, help: "Directory for the daemons' logs (default: a new temporary directory).")
    var logDir: String?

    @Option(name: .long, help: "Log level of the daemons.")
    var daemonLogLevel = "warning"

    @Flag(name: .long, help: "Run CURVE on both planes, with a fresh key pair for every process (as across hosts).")
    var curve = false

    @Option(name: .long, help: "Serve the coordinator's dashboard, JSON API and /metrics here while the job runs, e.g. 127.0.0.1:8265.")
    var http: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1...256") }
        guard (1...1024).contains(slots) else { throw ValidationError("--slots must be 1...1024") }
    }

    func run() throws {
        logging.bootstrap()
        let (yaml, validated) = try JobSpecFile.load(spec)
        if runOptions.dryRun {
            RunOptions.printCost(validated, source: spec)
            return
        }
        SignalTrap.install()
        let logDirectory = logDir ?? LocalCluster.makeLogDirectory()
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        var settings = LocalCluster.Settings(workers: workers, slots: slots, logLevel: daemonLogLevel)
        settings.curve = curve
        if let http { settings.coordinatorArguments += ["--http", http] }
        let cluster = try LocalCluster(settings, logDirectory: logDirectory)
        if let url = cluster.dashboardURL { FileHandle.standardError.write(Data("dashboard: \(url)/\n".utf8)) }
        let context = try ZMQContext()
        let job: Orrery_V1_JobInfo
        do {
            job = try ClusterJobRunner.run(
                yaml: yaml, source: spec, endpoint: cluster.endpoint, context: context, quiet: output.json, curve: cluster.clientCurve,
                tensorBoard: runOptions.tensorBoard(yaml: yaml))
        } catch {
            cluster.stop()
            FileHandle.standardError.write(Data("orrery: daemon logs are in \(logDirectory)\n".utf8))
            throw error
        }
        cluster.stop()
        JobResultPrinter.print(job, json: output.json)
        try runOptions.save(job)
        let code = JobResultPrinter.exitCode(for: job)
        if code == 0 && logDir == nil {
            try? FileManager.default.removeItem(atPath: logDirectory)
        } else if code != 0 {
            FileHandle.standardError.write(Data("orrery: daemon logs are in \(logDirectory)\n".utf8))
        }
        throw ExitCode(code)
    }
}
