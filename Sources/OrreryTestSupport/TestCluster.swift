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
    /// Where workers and clients started from now on connect (a test may put a relay in front).
    public var endpoint: String
    public private(set) var coordinator: ChildProcess?
    public private(set) var workers: [String: ChildProcess] = [:]
    public let context: ZMQContext
    public let heartbeat: String
    /// The coordinator's ledger: the same for every start, so a restarted one resumes.
    public var stateDirectory: String { "\(directory)/state" }
    private var coordinatorStarts = 0
    /// The names with CURVE keys when the cluster runs CURVE (see `init`), else nil.
    public let curveNames: [String]?
    /// The hosts daemons are spread over, when not all on this one.
    public let lab: NetworkLab?
    /// Where this test process reaches the coordinator (the same as `endpoint` without a lab).
    public var clientEndpoint = ""
    /// The coordinator's HTTP server (`http://HOST:PORT`), when it was started with `--http`.
    public var httpURL: String?
    /// Hosts handed to daemons so far (host 0 is the coordinator's).
    private var placed = 0

    /// - Parameters:
    ///   - heartbeat: heartbeat interval for every daemon (short, so tests are quick).
    ///   - curveNames: run CURVE on both planes: a key pair for the coordinator, for a
    ///     client named "client", and for each name (workers started under these ids use
    ///     theirs); the coordinator admits the names and the client, each worker's data
    ///     plane the names.
    ///   - lab: put the coordinator and each worker on hosts of their own (network
    ///     namespaces); by default one when `ORRERY_TEST_NETNS=1`. The test process, on
    ///     none of them, reaches the coordinator through an ipc socket it also binds.
    ///   - onOneHost: never spread (for tests that reach daemons over loopback themselves).
    public init(heartbeat: String = "200ms", curveNames: [String]? = nil, lab: NetworkLab? = nil, onOneHost: Bool = false) throws {
        self.lab = onOneHost ? nil : try lab ?? NetworkLab.fromEnvironment()
        var template = Array("\(NSTemporaryDirectory())/orrery-test-XXXXXX".utf8CString)
        directory = String(cString: mkdtemp(&template)!)
        context = try ZMQContext()
        self.heartbeat = heartbeat
        self.curveNames = curveNames
        endpoint = ""
        if let curveNames {
            try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
            for name in ["coordinator", "client"] + curveNames { try makeKey(name) }
            try writeAllowList("coordinator.allow", names: curveNames + ["client"])
            try writeAllowList("workers.allow", names: curveNames)
        }
    }

    /// Where CURVE keys and allow-lists are written.
    public var keyDirectory: String { "\(directory)/keys" }

    /// Writes NAME.key and NAME.pub into `keyDirectory`; returns the key pair.
    @discardableResult
    public func makeKey(_ name: String) throws -> CurveKeyPair {
        let pair = try CurveKeyPair.generate()
        try CurveKeyFile.write(pair, name: name, directory: keyDirectory)
        return pair
    }

    /// Writes an allow-list admitting `names`' public keys.
    public func writeAllowList(_ file: String, names: [String]) throws {
        let lines = try names.map { try String(contentsOfFile: "\(keyDirectory)/\($0).pub", encoding: .utf8) }
        try lines.joined().write(toFile: "\(keyDirectory)/\(file)", atomically: true, encoding: .utf8)
    }

    /// The flags a process named `name` passes to run CURVE with its own key.
    public func curveFlags(_ name: String, allow: String?) -> [String] {
        guard curveNames != nil else { return [] }
        var flags = ["--curve-key", "\(keyDirectory)/\(name).key"]
        if name != "coordinator" { flags += ["--curve-coordinator-key", "\(keyDirectory)/coordinator.pub"] }
        if let allow { flags += ["--curve-allow", "\(keyDirectory)/\(allow)"] }
        return flags
    }

    /// `name`'s client settings for talking CURVE to this cluster's coordinator.
    public func curveSecurity(_ name: String = "client") throws -> CurveSecurity? {
        guard curveNames != nil else { return nil }
        return CurveSecurity(
            keyPair: try CurveKeyFile.readKeyPair(path: "\(keyDirectory)/\(name).key"),
            serverKey: try CurveKeyFile.readPublicKey("\(keyDirectory)/coordinator.pub"))
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
        var binds = ["--bind", fixed ?? "tcp://127.0.0.1:*"]
        if let lab {
            let address = try lab.host(0).address
            binds = ["--bind", fixed ?? "tcp://\(address):*", "--bind", "ipc://\(directory)/coordinator.sock"]
        }
        let (executable, arguments) = try placement(0, OrreryBinary.path, [
                "coordinator"] + binds + ["--ready-file", ready,
                "--heartbeat-interval", heartbeat, "--heartbeat-misses", "3", "--drain-timeout", "5s",
                "--parent-pid", String(getpid()), "--log-level", "info",
            ] + (extra.contains("--ephemeral") || extra.contains("--state-dir") ? [] : ["--state-dir", stateDirectory])
                + curveFlags("coordinator", allow: "coordinator.allow") + extra)
        let process = try ChildProcess(executable: executable, arguments: arguments, standardError: .file("\(directory)/coordinator.log"))
        coordinator = process
        let found = eventually(timeoutMilliseconds: 15_000) { FileManager.default.fileExists(atPath: ready) || !process.isRunning }
        guard found, process.isRunning, let text = try? String(contentsOfFile: ready, encoding: .utf8),
            let line = text.split(separator: "\n").first
        else {
            throw TestClusterError("coordinator did not start; log:\n\(log("coordinator"))")
        }
        endpoint = String(line)
        clientEndpoint = text.split(separator: "\n").first(where: { $0.hasPrefix("ipc://") }).map(String.init) ?? endpoint
        httpURL = text.split(separator: "\n").first(where: { $0.hasPrefix("http://") }).map(String.init)
        return endpoint
    }

    /// Starts a worker process named `id`.
    @discardableResult
    public func startWorker(_ id: String, slots: Int = 1, extra: [String] = []) throws -> ChildProcess {
        placed += 1
        var network: [String] = []
        if let lab { network = ["--data-bind", "tcp://\(try lab.host(placed).address):*", "--no-local-ipc"] }
        let (executable, arguments) = try placement(placed, OrreryBinary.path, [
                "worker", "--coordinator", endpoint, "--id", id, "--slots", String(slots),
                "--heartbeat-interval", heartbeat, "--grace-period", "1s", "--parent-pid", String(getpid()),
                "--log-level", "info",
            ] + network + (extra.contains("--curve-key") ? [] : curveFlags(id, allow: "workers.allow")) + extra)
        let process = try ChildProcess(
            executable: executable, arguments: arguments,
            environment: ["OPENBLAS_NUM_THREADS": "1"],
            standardError: .file("\(directory)/\(id).log"))
        workers[id] = process
        return process
    }

    /// Starts any other program as part of this cluster (e.g. the C worker).
    public func startProcess(_ name: String, executable: String, arguments: [String]) throws -> ChildProcess {
        placed += 1
        let (program, placedArguments) = try placement(placed, executable, arguments)
        let process = try ChildProcess(
            executable: program, arguments: placedArguments, standardError: .file("\(directory)/\(name).log"))
        workers[name] = process
        return process
    }

    /// `executable arguments` as run on host `index` of the lab (unchanged without one).
    private func placement(_ index: Int, _ executable: String, _ arguments: [String]) throws -> (String, [String]) {
        guard let lab else { return (executable, arguments) }
        return lab.command(on: try lab.host(index), executable, arguments)
    }

    /// A raw DEALER connected to the coordinator as `routingID` that has sent `register`
    /// and nothing else: a worker a test plays by hand (or an impostor).
    public func rawWorker(routingID: String, register: Orrery_V1_Register) throws -> Socket {
        let socket = try Socket(context: context, kind: .dealer, policy: .client)
        try socket.setRoutingID(routingID)
        try socket.connect(clientEndpoint)
        try socket.send([EnvelopeCodec.encode(.register(register))], wait: true)
        return socket
    }

    public func client() throws -> CoordinatorClient {
        let client = try CoordinatorClient(endpoint: clientEndpoint, context: context, curve: curveSecurity())
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
        lab?.tearDown()
    }
}

public struct TestClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
