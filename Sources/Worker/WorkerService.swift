import Collectives
import Foundation
import Logging
import Metrics
import Messaging
import Runtime
import Wire
import Workloads

/// Why a worker stopped.
public enum WorkerExit: Equatable, Sendable {
    /// A shutdown request (SIGINT or SIGTERM through the lifecycle), after running tasks
    /// finished or the grace period ran out; the request's reason.
    case stopped(String)
    /// The coordinator sent Shutdown.
    case shutdownRequested(String)
    /// The coordinator refused this worker for good (protocol version, bad registration).
    case refused(String)
}

/// The worker daemon: a DEALER connection to the coordinator and a pool of task threads.
///
/// One service thread owns the socket. It registers, heartbeats, receives leases and hands
/// them to the pool, and batches the pool's results back. When the coordinator goes quiet
/// it reopens the connection with exponential backoff and registers again, reporting the
/// tasks it is still running so their leases are kept; results finished while disconnected
/// are held and sent once registered. It never names a job kind: executors come from the
/// workload registry by the lease's `workload` field.
public final class WorkerService {
    let config: WorkerConfig
    let registry: WorkloadRegistry
    var logger: Logger

    private var context: ZMQContext!
    private var control: Socket?
    private var results: Socket!
    private var pool: TaskPool!
    private var dataPlane: DataPlaneEndpoint?
    /// Checks gang peers' CURVE keys against the allow-list while the data plane is encrypted.
    private var zapHandler: ZAPHandler?
    /// Watches the control connection's CURVE handshakes, so that a refused key is said
    /// plainly instead of looking like a silent coordinator.
    private var handshakes: SocketMonitor?
    private var advertisedDataEndpoint = ""
    private var ipcPath: String?
    private var connection: ControlConnectionStateMachine
    /// Leased tasks not yet reported, by task id.
    private var running: [String: Int] = [:]
    /// Results finished while not registered, sent once registered again.
    private var pending: [Orrery_V1_TaskResult] = []
    private var heartbeatSequence: UInt64 = 0
    private var exitReason: WorkerExit?
    private var stopping: (reason: String, deadline: Int64)?
    /// This process's identity on the control socket: the worker id and a random suffix,
    /// the same across reconnects. The coordinator tells a reconnect of this process
    /// (same routing id) from another process claiming the same worker id.
    private let routingID: String
    /// Data-plane frames dropped while no gang held the socket.
    private var dataPlaneDropped: UInt64 = 0
    private var logLimiter = LogRateLimiter()
    private var unsentProgress: [Orrery_V1_Progress] = []
    private let droppedControlFrames = Counter(label: "orrery_worker_control_frames_dropped_total")
    private let droppedDataFrames = Counter(label: "orrery_worker_data_plane_frames_dropped_total")

    public init(config: WorkerConfig, registry: WorkloadRegistry = .builtIn, logger: Logger) {
        self.config = config
        self.registry = registry
        self.logger = logger
        self.logger[metadataKey: "worker"] = "\(config.workerID)"
        self.routingID = config.workerID.truncated(toBytes: WireLimits.maximumIdentifierBytes - 17)
            + "#" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.connection = ControlConnectionStateMachine(
            intervalMilliseconds: config.heartbeatIntervalMilliseconds, misses: config.heartbeatMisses,
            backoff: ExponentialBackoff(
                initialMilliseconds: config.backoffInitialMilliseconds,
                maximumMilliseconds: config.backoffMaximumMilliseconds))
    }

    /// Runs until a shutdown request arrives in `mailbox`, a Shutdown from the coordinator,
    /// or a final refusal.
    /// - Throws: `ZMQError` for local socket failures only, and any executor that fails to load.
    public func run(context: ZMQContext, mailbox: ShutdownMailbox = ShutdownMailbox()) throws -> WorkerExit {
        self.context = context
        var executors: [String: any Executor] = [:]
        for workload in registry.all { executors[workload.kind] = try workload.makeExecutor() }

        let resultsEndpoint = "inproc://orrery-task-results-\(UInt64.random(in: 0...UInt64.max))"
        results = try Socket(context: context, kind: .pull, policy: .inproc)
        try results.bind(resultsEndpoint)
        try openDataPlane(context: context)
        let outputDirectory: OutputDirectory
        do {
            outputDirectory = try OutputDirectory(config.outputDirectory)
        } catch {
            throw WorkerConfigError("--output-dir: \(error.message)")
        }
        pool = TaskPool(
            threads: config.slots, executors: executors, resultsEndpoint: resultsEndpoint, dataPlane: dataPlane,
            outputDirectory: outputDirectory, checkpointInlineLimit: config.checkpointInlineLimit, logger: logger)
        pool.start(context: context)
        defer {
            shutDownPool()
            dataPlane?.close()
            zapHandler?.stop()
            if let ipcPath { unlink(ipcPath) }
        }

        logger.info("starting", metadata: ["coordinator": "\(config.coordinatorEndpoint)", "slots": "\(config.slots)"])
        try perform(connection.start(now: MonotonicClock.milliseconds))
        while exitReason == nil {
            let sockets = [results!] + (control.map { [$0] } ?? [])
            let ready = try Poller(sockets).poll(timeoutMilliseconds: 50)
            // Progress first: a task reports it before returning, so on the one socket the
            // coordinator sees a task's notes before its result.
            sendProgress()
            if ready.contains(0) { try drainResults() }
            if ready.contains(1) { try drainControl() }
            // Results a full queue refused go out again on the next turn.
            if connection.isRegistered && !pending.isEmpty { flushPending() }
            drainIdleDataPlane()
            readHandshakes()
            let now = MonotonicClock.milliseconds
            try perform(connection.tick(now: now))
            handleShutdownRequests(mailbox, now: now)
            if let stopping, running.isEmpty || now >= stopping.deadline {
                exitReason = .stopped(stopping.reason)
            }
        }
        if !pending.isEmpty { logger.warning("exiting with \(pending.count) unsent result(s)") }
        closeControl()
        logger.info("stopped", metadata: ["reason": "\(exitReason!)"])
        return exitReason!
    }

    /// Binds the data plane and works out the endpoint peers on other hosts should use.
    private func openDataPlane(context: ZMQContext) throws {
        guard let bind = config.dataBind else { return }
        var local: String?
        if config.dataLocalIPC {
            let path = "\(NSTemporaryDirectory())/orrery-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            ipcPath = path
            local = "ipc://\(path)"
        }
        var curve: (CurveSecurity, ZAPHandler)?
        if let security = config.curve {
            let handler = try ZAPHandler(context: context)
            zapHandler = handler
            curve = (security, handler)
        }
        let plane = try DataPlaneEndpoint(context: context, bind: bind, localBind: local, curve: curve)
        dataPlane = plane
        advertisedDataEndpoint = Self.advertised(plane.endpoint, host: config.dataHost)
        logger.info("data plane listening", metadata: ["endpoint": "\(advertisedDataEndpoint)", "local": "\(plane.localEndpoint ?? "-")"])
    }

    /// `tcp://0.0.0.0:41234` as peers must dial it: with `host`, or this host's name.
    static func advertised(_ bound: String, host: String?) -> String {
        guard bound.hasPrefix("tcp://"), let colon = bound.lastIndex(of: ":") else { return bound }
        let boundHost = bound[bound.index(bound.startIndex, offsetBy: 6)..<colon]
        let port = bound[bound.index(after: colon)...]
        if let host { return "tcp://\(host):\(port)" }
        guard boundHost == "0.0.0.0" || boundHost == "[::]" || boundHost == "*" else { return bound }
        return "tcp://\(ProcessInfo.processInfo.hostName):\(port)"
    }

    // MARK: Control connection

    private func perform(_ actions: [ControlConnectionStateMachine.Action]) throws {
        for action in actions {
            switch action {
            case .openConnection: try openConnection()
            case .closeConnection:
                logLimited(.warning, "coordinator silent; reconnecting with backoff", why: "no word within the liveness window", key: "silent")
                closeControl()
            case .sendRegister: sendRegister()
            case .sendHeartbeat: sendHeartbeat()
            case .flushPending:
                logLimited(.info, "registered", why: "reconnects=\(connection.reconnects) held_results=\(pending.count)", key: "registered")
                flushPending()
            case .fail(let reason):
                logger.error("coordinator refused this worker: \(PrintableText.escaped(reason, limit: 400))")
                exitReason = .refused(reason)
            case .warn(let message):
                logLimited(.warning, "control connection", why: message, key: "warn:" + String(message.prefix(while: { !$0.isNumber }).prefix(40)))
            }
        }
    }

    /// Closes the control socket, its handshake monitor first (libzmq asks for that order).
    private func closeControl() {
        handshakes?.close()
        handshakes = nil
        control?.close()
        control = nil
    }

    private func openConnection() throws {
        closeControl()
        let socket = try Socket(context: context, kind: .dealer, policy: .control)
        try socket.setRoutingID(routingID)
        try socket.setReconnectInterval(milliseconds: 100, maximumMilliseconds: Int32(config.backoffMaximumMilliseconds))
        if let curve = config.curve {
            try curve.connectToCoordinator(socket)
            handshakes = try SocketMonitor(watching: socket, context: context, events: .handshakes)
        }
        try socket.connect(config.coordinatorEndpoint)
        control = socket
    }

    /// Says, at most a few times a window, that the coordinator refused this worker's key.
    private func readHandshakes() {
        guard let handshakes, let curve = config.curve else { return }
        while case .some(let event) = try? handshakes.next() {
            guard case .handshakeFailed(let endpoint, let refused) = event else { continue }
            let why = refused
                ? "the coordinator refused this worker's CURVE key \(curve.keyPair.publicKey.fingerprint): add its .pub line to the coordinator's allow-list and send it SIGHUP"
                : "the CURVE handshake with \(endpoint) failed: is the coordinator's public key right, and does it run CURVE?"
            logLimited(.error, "coordinator handshake failed", why: why, key: "handshake")
        }
    }

    @discardableResult
    private func send(_ body: EnvelopeBody) -> Bool {
        guard let control else { return false }
        do {
            try control.send([EnvelopeCodec.encode(body)])
            return true
        } catch {
            logger.debug("send to coordinator failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func sendRegister() {
        var message = Orrery_V1_Register()
        message.workerID = config.workerID
        message.cores = UInt32(ProcessInfo.processInfo.activeProcessorCount)
        message.memoryBytes = ProcessInfo.processInfo.physicalMemory
        message.dataEndpoint = advertisedDataEndpoint
        message.dataEndpointLocal = dataPlane?.localEndpoint ?? ""
        message.capabilities = registry.kinds
        message.slots = UInt32(config.slots)
        message.hostname = ProcessInfo.processInfo.hostName
        message.pid = UInt32(getpid())
        // Tasks whose results wait to be sent count as held: a restarted coordinator keeps
        // their leases, so the results are accepted instead of the tasks run again.
        message.runningTaskIds = Array(Set(running.keys).union(pending.map(\.taskID))).sorted()
        message.agent = "orrery-swift/\(WireProtocol.version)"
        message.maxPrefetch = UInt32(clamping: config.maxPrefetch)
        if dataPlane?.curveKeyPair != nil, let curve = config.curve { message.curvePublicKey = Data(curve.keyPair.publicKey.bytes) }
        send(.register(message))
    }

    private func sendHeartbeat() {
        heartbeatSequence += 1
        var heartbeat = Orrery_V1_Heartbeat()
        heartbeat.sequence = heartbeatSequence
        heartbeat.runningTasks = UInt32(running.count)
        send(.heartbeat(heartbeat))
    }

    private func drainControl() throws {
        guard let control else { return }
        for _ in 0..<1024 {
            guard let frames = try control.receive(wait: false) else { return }
            guard frames.count == 1 else {
                noteDropped("message of \(frames.count) frames")
                continue
            }
            let body: EnvelopeBody
            do {
                body = try EnvelopeCodec.decode(frames[0])
            } catch {
                noteDropped("\(error)")
                continue
            }
            try perform(connection.received(body, now: MonotonicClock.milliseconds))
            handle(body)
            if self.control !== control { return }
        }
    }

    /// Counts a control frame that made no sense and logs it, a few lines per reason and
    /// window whatever the rate (a hostile coordinator must not fill the disk).
    private func noteDropped(_ why: String) {
        droppedControlFrames.increment()
        logLimited(.warning, "dropped control frame", why: why, key: "dropped")
    }

    /// Logs a line about what the coordinator sent, escaped, a few times per `key` and
    /// window at most (then one line with the count of those left out).
    private func logLimited(_ level: Logger.Level, _ message: Logger.Message, why: @autoclosure () -> String, key: String) {
        logLimiter.log(logger, level, message, key: key, now: MonotonicClock.milliseconds, why: why())
    }

    private func handle(_ body: EnvelopeBody) {
        switch body {
        case .leases(let batch): accept(batch.leases)
        case .cancel(let cancel):
            pool.cancel(cancel.taskIds)
            for id in cancel.taskIds { running[id] = nil }
            logLimited(.info, "cancelled \(cancel.taskIds.count) task(s)", why: cancel.reason, key: "cancel")
        case .shutdown(let shutdown):
            logger.notice("coordinator asked this worker to shut down: \(PrintableText.escaped(shutdown.reason))")
            exitReason = .shutdownRequested(shutdown.reason)
        case .reject(let reject) where reject.code != .rejectUnknownWorker && reject.code != .rejectDuplicateWorker:
            logLimited(.warning, "coordinator rejected a message", why: reject.reason, key: "reject")
        default:
            break
        }
    }

    /// Leases this worker holds at most (running and queued); more is a coordinator not
    /// keeping the contract, and the extras go back at once.
    private var maximumHeldLeases: Int { config.slots * WireLimits.maximumQueuedLeasesPerSlot }

    private func accept(_ leases: [Orrery_V1_TaskLease]) {
        for lease in leases {
            if stopping != nil {
                report(Self.refusal(lease, "worker \(config.workerID) is shutting down"))
                continue
            }
            if let problem = Self.problem(with: lease) {
                logLimited(.warning, "refused a malformed lease", why: problem, key: "malformed lease")
                if !lease.taskID.isEmpty && lease.taskID.utf8.count <= WireLimits.maximumIdentifierBytes {
                    report(Self.refusal(lease, problem, retryable: false))
                }
                continue
            }
            if running[lease.taskID] == nil && running.count >= maximumHeldLeases {
                report(Self.refusal(lease, "worker \(config.workerID) already holds \(running.count) leases (its limit)"))
                continue
            }
            running[lease.taskID] = Int(lease.attempt)
            let resume = lease.resumeCheckpoint.isEmpty ? nil : TaskCheckpoint(step: Int(lease.resumeStep), data: lease.resumeCheckpoint)
            pool.submit(.init(
                taskID: lease.taskID, attempt: Int(lease.attempt), workload: lease.workload, payload: lease.payload,
                ring: lease.hasRing ? lease.ring : nil, resume: resume))
        }
    }

    /// What is wrong with a lease's own fields, or nil; the payload is the executor's to check.
    static func problem(with lease: Orrery_V1_TaskLease) -> String? {
        if lease.taskID.isEmpty || lease.taskID.utf8.count > WireLimits.maximumIdentifierBytes {
            return "task_id must be 1 to \(WireLimits.maximumIdentifierBytes) bytes, got \(lease.taskID.utf8.count)"
        }
        if lease.attempt == 0 { return "task \(PrintableText.escaped(lease.taskID)): attempt must be 1 or more" }
        if lease.resumeStep > UInt64(Int32.max) {
            return "task \(PrintableText.escaped(lease.taskID)): resume_step \(lease.resumeStep) is beyond any checkpoint a task commits"
        }
        return nil
    }

    private static func refusal(_ lease: Orrery_V1_TaskLease, _ message: String, retryable: Bool = true) -> Orrery_V1_TaskResult {
        var result = Orrery_V1_TaskResult()
        result.taskID = lease.taskID
        result.attempt = lease.attempt
        var failure = Orrery_V1_TaskFailure()
        failure.message = message
        failure.retryable = retryable
        result.failure = failure
        return result
    }

    // MARK: Results

    /// Collects whatever the pool has finished and sends it as one batch.
    private func drainResults() throws {
        var batch: [Orrery_V1_TaskResult] = []
        for _ in 0..<4096 {
            guard let frames = try results.receive(wait: false), let frame = frames.first, let first = frame.first else { break }
            switch TaskPool.FrameTag(rawValue: first) {
            case .result:
                guard let result = try? Orrery_V1_TaskResult(serializedBytes: Array(frame.dropFirst())) else { continue }
                let attempt = Int(result.attempt)
                pool.forget(result.taskID, attempt: attempt)
                if running[result.taskID] == attempt {
                    running[result.taskID] = nil
                } else if case .failure = result.outcome {
                    continue  // an old attempt (cancelled, or replaced by a new gang): its failure is moot
                }
                batch.append(result)
            case .cancelled:
                guard let result = try? Orrery_V1_TaskResult(serializedBytes: Array(frame.dropFirst())) else { continue }
                if running[result.taskID] == Int(result.attempt) { running[result.taskID] = nil }
                pool.forget(result.taskID, attempt: Int(result.attempt))
            case .checkpoint:
                guard let checkpoint = try? Orrery_V1_Checkpoint(serializedBytes: Array(frame.dropFirst())) else { continue }
                // In the order the task threads sent them: a task's final state follows its
                // result (and a mid-task checkpoint comes before it), so results read so far go first.
                report(batch)
                batch = []
                if connection.isRegistered { send(.checkpoint(checkpoint)) }
            case .exited, nil:
                continue
            }
        }
        report(batch)
    }

    private func report(_ result: Orrery_V1_TaskResult) { report([result]) }

    private func report(_ batch: [Orrery_V1_TaskResult]) {
        guard !batch.isEmpty else { return }
        guard connection.isRegistered else {
            hold(batch)
            return
        }
        var message = Orrery_V1_ResultBatch()
        message.results = batch
        if !send(.results(message)) { hold(batch) }
    }

    /// Keeps results until the worker is registered again, at most as many as it may hold
    /// leases: a coordinator that keeps leasing while it never takes results back cannot
    /// grow the worker without bound (the oldest go; their leases expire and are re-run).
    private func hold(_ batch: [Orrery_V1_TaskResult]) {
        pending.append(contentsOf: batch)
        let excess = pending.count - maximumHeldLeases
        guard excess > 0 else { return }
        pending.removeFirst(excess)
        logLimited(.warning, "dropped held results", why: "\(excess) beyond the limit of \(maximumHeldLeases)", key: "held")
    }

    private func flushPending() {
        let held = pending
        pending = []
        report(held)
    }

    /// Sends the pool's progress notes; notes a full queue refused are kept (the newest
    /// 256) and go first next time.
    private func sendProgress() {
        let items = unsentProgress + pool.takeProgress()
        unsentProgress = []
        guard !items.isEmpty, connection.isRegistered else { return }
        var batch = Orrery_V1_ProgressBatch()
        batch.items = items
        if !send(.progress(batch)) { unsentProgress = Array(items.suffix(256)) }
    }

    /// Empties the data plane of what arrived while no gang held it (see
    /// `DataPlaneEndpoint`), and reports drops a few times a minute at most.
    private func drainIdleDataPlane() {
        guard let dataPlane else { return }
        dataPlane.drainWhileIdle()
        let total = dataPlane.droppedFrames
        guard total > dataPlaneDropped else { return }
        droppedDataFrames.increment(by: Int(total - dataPlaneDropped))
        logLimited(.warning, "dropped data-plane frames that belong to no ring", why: "\(total) in all", key: "data-plane drops")
        dataPlaneDropped = total
    }

    // MARK: Shutdown

    /// A graceful request starts the grace period (a later one changes nothing); an
    /// immediate one ends the loop now.
    private func handleShutdownRequests(_ mailbox: ShutdownMailbox, now: Int64) {
        while let request = mailbox.take() {
            switch request {
            case .immediate(let reason):
                logger.warning("\(reason): stopping without waiting for \(running.count) running task(s)")
                exitReason = .stopped(reason)
            case .graceful(let reason):
                guard stopping == nil else { continue }
                stopping = (reason, now + config.gracePeriodMilliseconds)
                logger.notice(
                    "\(reason): finishing \(running.count) running task(s) (up to \(config.gracePeriodMilliseconds) ms), then exiting")
            }
        }
    }

    /// Stops the pool threads and waits (briefly) for each to close its socket, so that the
    /// ZeroMQ context can terminate.
    private func shutDownPool() {
        pool.stop()
        var exited = 0
        let deadline = MonotonicClock.milliseconds + 2000
        while exited < pool.threadCount && MonotonicClock.milliseconds < deadline {
            guard let frames = try? results.receive(timeoutMilliseconds: 100), let first = frames.first?.first else { continue }
            if first == TaskPool.FrameTag.exited.rawValue { exited += 1 }
        }
        results.close()
    }
}
