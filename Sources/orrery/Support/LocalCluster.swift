import Foundation
import Glibc
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
    private(set) var workers: [ChildProcess] = []

    struct Settings {
        var workers: Int
        var slots: Int
        var logLevel = "warning"
        var heartbeatInterval = "1s"
        /// Extra arguments for the coordinator.
        var coordinatorArguments: [String] = []
        /// The coordinator's ledger directory; nil runs it without one (`--ephemeral`): a
        /// local run lives and dies with this process.
        var stateDirectory: String?
    }

    /// Starts the coordinator, waits until it listens, then starts the workers.
    init(_ settings: Settings, logDirectory: String) throws {
        self.logDirectory = logDirectory
        let executable = ChildProcess.currentExecutable
        let parent = String(getpid())
        let readyFile = "\(logDirectory)/coordinator.endpoint"
        // One BLAS thread per process: several daemons share this machine's cores.
        let environment = [
            "OPENBLAS_NUM_THREADS": ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "1",
            "ORRERY_THREADS": ProcessInfo.processInfo.environment["ORRERY_THREADS"] ?? "1",
        ]
        coordinator = try ChildProcess(
            executable: executable,
            arguments: [
                "coordinator", "--bind", "tcp://127.0.0.1:*", "--ready-file", readyFile, "--parent-pid", parent,
                "--log-level", settings.logLevel, "--heartbeat-interval", settings.heartbeatInterval,
                "--drain-timeout", "2s",
            ] + (settings.stateDirectory.map { ["--state-dir", $0] } ?? ["--ephemeral"]) + settings.coordinatorArguments,
            environment: environment, standardError: .file("\(logDirectory)/coordinator.log"))
        endpoint = try Self.waitForEndpoint(readyFile, coordinator: coordinator, log: "\(logDirectory)/coordinator.log")
        for index in 0..<settings.workers {
            workers.append(
                try ChildProcess(
                    executable: executable,
                    arguments: [
                        "worker", "--coordinator", endpoint, "--id", "local-\(getpid())-\(index)",
                        "--slots", String(settings.slots), "--parent-pid", parent, "--log-level", settings.logLevel,
                        "--heartbeat-interval", settings.heartbeatInterval, "--grace-period", "2s",
                    ],
                    environment: environment, standardError: .file("\(logDirectory)/worker-\(index).log")))
        }
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
