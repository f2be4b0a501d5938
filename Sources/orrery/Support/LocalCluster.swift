import Foundation
import Glibc
import Messaging
import Runtime

/// A coordinator and N workers as separate processes of this same binary, on loopback:
/// what `orrery launch` and `orrery bench` run.
///
/// Every child is told this process's pid, so it exits if this process dies (even by
/// SIGKILL); `stop()` ends them by the pids it started, workers first.
final class LocalCluster {
    let endpoint: String
    let logDirectory: String
    private let coordinator: ChildProcess
    /// The coordinator's dashboard (`http://HOST:PORT`) when it serves one (`--http`).
    private(set) var dashboardURL: String?
    private(set) var workers: [ChildProcess] = []
    /// This process's client settings when the cluster runs CURVE.
    let clientCurve: CurveSecurity?

    struct Settings {
        var workers: Int
        var slots: Int
        var logLevel = "warning"
        var heartbeatInterval = "1s"
        /// Extra arguments for the coordinator.
        var coordinatorArguments: [String] = []
        /// Extra arguments for every worker.
        var workerArguments: [String] = []
        /// The coordinator's ledger directory; nil runs it without one (`--ephemeral`): a
        /// local run lives and dies with this process.
        var stateDirectory: String?
        /// CURVE on both planes, with a fresh key pair for every process (in the log directory).
        var curve = false
    }

    /// Starts the coordinator, waits until it listens, then starts the workers.
    init(_ settings: Settings, logDirectory: String) throws {
        self.logDirectory = logDirectory
        let executable = ChildProcess.currentExecutable
        let parent = String(getpid())
        let readyFile = "\(logDirectory)/coordinator.endpoint"
        // One BLAS thread per process: several daemons share this machine's cores.
        // CURVE only as `settings.curve` says, whatever this shell's ORRERY_CURVE_* hold
        // (empty counts as unset).
        let environment = [
            "OPENBLAS_NUM_THREADS": ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "1",
            "ORRERY_THREADS": ProcessInfo.processInfo.environment["ORRERY_THREADS"] ?? "1",
            "ORRERY_CURVE_KEY": "", "ORRERY_CURVE_COORDINATOR_KEY": "", "ORRERY_CURVE_ALLOW": "",
        ]
        let keys = settings.curve ? try Self.makeKeys(workers: settings.workers, in: "\(logDirectory)/keys") : nil
        clientCurve = try keys.map { keys in
            CurveSecurity(
                keyPair: try CurveKeyFile.readKeyPair(path: "\(keys)/client.key"),
                serverKey: try CurveKeyFile.readPublicKey("\(keys)/coordinator.pub"))
        }
        coordinator = try ChildProcess(
            executable: executable,
            arguments: [
                "coordinator", "--bind", "tcp://127.0.0.1:*", "--ready-file", readyFile, "--parent-pid", parent,
                "--log-level", settings.logLevel, "--heartbeat-interval", settings.heartbeatInterval,
                "--drain-timeout", "2s",
            ] + (settings.stateDirectory.map { ["--state-dir", $0] } ?? ["--ephemeral"]) + settings.coordinatorArguments
                + (keys.map { ["--curve-key", "\($0)/coordinator.key", "--curve-allow", "\($0)/coordinator.allow"] } ?? []),
            environment: environment, standardError: .file("\(logDirectory)/coordinator.log"))
        endpoint = try Self.waitForEndpoint(readyFile, coordinator: coordinator, log: "\(logDirectory)/coordinator.log")
        dashboardURL = (try? String(contentsOfFile: readyFile, encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("http://") }.map(String.init)
        for index in 0..<settings.workers {
            workers.append(
                try ChildProcess(
                    executable: executable,
                    arguments: [
                        "worker", "--coordinator", endpoint, "--id", "local-\(getpid())-\(index)",
                        "--slots", String(settings.slots), "--parent-pid", parent, "--log-level", settings.logLevel,
                        "--heartbeat-interval", settings.heartbeatInterval, "--grace-period", "2s",
                    ] + settings.workerArguments + (keys.map { [
                        "--curve-key", "\($0)/worker-\(index).key", "--curve-coordinator-key", "\($0)/coordinator.pub",
                        "--curve-allow", "\($0)/workers.allow",
                    ] } ?? []),
                    environment: environment, standardError: .file("\(logDirectory)/worker-\(index).log")))
        }
    }

    /// Key pairs for the coordinator, each worker and this process ("client"), and the
    /// allow-lists: the coordinator admits the workers and the client, workers each other.
    private static func makeKeys(workers: Int, in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var workerLines = ""
        for name in ["coordinator", "client"] + (0..<workers).map({ "worker-\($0)" }) {
            let pair = try CurveKeyPair.generate()
            try CurveKeyFile.write(pair, name: name, directory: directory)
            if name.hasPrefix("worker-") { workerLines += "\(pair.publicKey.z85) \(name)\n" }
        }
        let client = try String(contentsOfFile: "\(directory)/client.pub", encoding: .utf8)
        try workerLines.write(toFile: "\(directory)/workers.allow", atomically: true, encoding: .utf8)
        try (workerLines + client).write(toFile: "\(directory)/coordinator.allow", atomically: true, encoding: .utf8)
        return directory
    }

    private static func waitForEndpoint(_ path: String, coordinator: ChildProcess, log: String) throws -> String {
        let deadline = MonotonicClock.milliseconds + 15_000
        while MonotonicClock.milliseconds < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let line = text.split(separator: "\n").first
            {
                return String(line)
            }
            if let status = coordinator.poll() {
                let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
                throw CommandFailure.exit(
                    "coordinator exited with status \(status) before listening:\n\(tail)", code: CommandFailure.clusterError)
            }
            usleep(10_000)
        }
        throw CommandFailure.exit("coordinator did not start listening within 15 s (log: \(log))", code: CommandFailure.clusterError)
    }

    /// Stops the workers, then the coordinator, by pid: SIGTERM, then SIGKILL after a grace.
    func stop() {
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { worker.terminate(graceMilliseconds: 5_000) }
        coordinator.terminate(graceMilliseconds: 5_000)
    }

    /// Makes a fresh directory for the children's logs.
    static func makeLogDirectory() -> String {
        var template = Array("\(NSTemporaryDirectory())/orrery-launch-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { return NSTemporaryDirectory() }
        return String(cString: path)
    }
}
