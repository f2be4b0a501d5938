import Client
import Foundation
import Glibc
import Messaging
import Runtime
import Wire

/// Real `orrery` coordinator and worker processes for one test, on a loopback port of
/// their own, each stopped by the pid it was started with. A test that fails or throws
/// still leaves none behind: every process is terminated when the cluster goes away.
public final class TestCluster {
    public let directory: String
    public private(set) var endpoint: String
    public private(set) var coordinator: ChildProcess?
    public private(set) var workers: [String: ChildProcess] = [:]
    public let context: ZMQContext
    public let heartbeat: String
    /// The coordinator's ledger: the same for every start, so a restarted one resumes.
    public var stateDirectory: String { "\(directory)/state" }
    private var coordinatorStarts = 0

    /// - Parameter heartbeat: heartbeat interval for every daemon (short, so tests are quick).
    public init(heartbeat: String = "200ms") throws {
        var template = Array("\(NSTemporaryDirectory())/orrery-test-XXXXXX".utf8CString)
        directory = String(cString: mkdtemp(&template)!)
        context = try ZMQContext()
        self.heartbeat = heartbeat
        endpoint = ""
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts a coordinator; `endpoint` nil picks a free port, else binds that endpoint
    /// (to restart on the same address).
    @discardableResult
    public func startCoordinator(endpoint fixed: String? = nil, extra: [String] = []) throws -> String {
        coordinatorStarts += 1
        let ready = "\(directory)/coordinator-\(coordinatorStarts).endpoint"
        let process = try ChildProcess(
            executable: OrreryBinary.path,
            arguments: [
                "coordinator", "--bind", fixed ?? "tcp://127.0.0.1:*", "--ready-file", ready,
                "--heartbeat-interval", heartbeat, "--heartbeat-misses", "3", "--drain-timeout", "5s",
                "--parent-pid", String(getpid()), "--log-level", "info",
            ] + (extra.contains("--ephemeral") || extra.contains("--state-dir") ? [] : ["--state-dir", stateDirectory]) + extra,
            standardError: .file("\(directory)/coordinator.log"))
        coordinator = process
        let found = eventually(timeoutMilliseconds: 15_000) { FileManager.default.fileExists(atPath: ready) || !process.isRunning }
        guard found, process.isRunning, let text = try? String(contentsOfFile: ready, encoding: .utf8),
            let line = text.split(separator: "\n").first
        else {
            throw TestClusterError("coordinator did not start; log:\n\(log("coordinator"))")
        }
        endpoint = String(line)
        return endpoint
    }

    /// Starts a worker process named `id`.
    @discardableResult
    public func startWorker(_ id: String, slots: Int = 1, extra: [String] = []) throws -> ChildProcess {
        let process = try ChildProcess(
            executable: OrreryBinary.path,
            arguments: [
                "worker", "--coordinator", endpoint, "--id", id, "--slots", String(slots),
                "--heartbeat-interval", heartbeat, "--grace-period", "1s", "--parent-pid", String(getpid()),
                "--log-level", "info",
            ] + extra,
            environment: ["OPENBLAS_NUM_THREADS": "1"],
            standardError: .file("\(directory)/\(id).log"))
        workers[id] = process
        return process
    }

    /// Starts any other program as part of this cluster (e.g. the C worker).
    public func startProcess(_ name: String, executable: String, arguments: [String]) throws -> ChildProcess {
        let process = try ChildProcess(
            executable: executable, arguments: arguments, standardError: .file("\(directory)/\(name).log"))
        workers[name] = process
        return process
    }

    /// A raw DEALER connected to the coordinator as `routingID` that has sent `register`
    /// and nothing else: a worker a test plays by hand (or an impostor).
    public func rawWorker(routingID: String, register: Orrery_V1_Register) throws -> Socket {
        let socket = try Socket(context: context, kind: .dealer, policy: .client)
        try socket.setRoutingID(routingID)
        try socket.connect(endpoint)
        try socket.send([EnvelopeCodec.encode(.register(register))], wait: true)
        return socket
    }

    public func client() throws -> CoordinatorClient {
        let client = try CoordinatorClient(endpoint: endpoint, context: context)
        client.replyTimeoutMilliseconds = 3_000
        return client
    }

    public func status() throws -> Orrery_V1_ClusterStatus { try client().status() }

    /// Waits until the coordinator lists `ids` among its workers.
    public func waitForWorkers(_ ids: [String], timeoutMilliseconds: Int = 15_000) -> Bool {
        eventually(timeoutMilliseconds: timeoutMilliseconds, every: 100) {
            guard let status = try? status() else { return false }
            let registered = Set(status.workers.map(\.workerID))
            return ids.allSatisfy(registered.contains)
        }
    }

    /// Submits `yaml` and follows the job to its end.
    public func run(_ yaml: String, timeoutMilliseconds: Int = 60_000) throws -> Orrery_V1_JobInfo {
        let client = try client()
        let id = try client.submit(specYAML: yaml, sourceName: "test.yaml", watch: true)
        let deadline = MonotonicClock.milliseconds + Int64(timeoutMilliseconds)
        return try client.follow(jobID: id, onUpdate: { _ in }, shouldStop: { MonotonicClock.milliseconds > deadline })
    }

    /// A daemon's log so far, for failure messages.
    public func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? "(no log)"
    }

    /// Stops every process this cluster started, by pid.
    public func stopAll() {
        for (_, worker) in workers { worker.signal(SIGKILL) }
        for (_, worker) in workers { _ = worker.wait(timeoutMilliseconds: 2_000) }
        workers = [:]
        coordinator?.terminate(graceMilliseconds: 2_000)
        coordinator = nil
    }
}

public struct TestClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
