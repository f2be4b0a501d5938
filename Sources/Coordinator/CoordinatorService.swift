import Foundation
import Ledger
import Logging
import Messaging
import Runtime
import Wire
import Workloads

/// The coordinator daemon: one ROUTER socket, one thread, one event loop.
///
/// Workers and clients connect DEALER sockets. Each turn of the loop reads what has
/// arrived, lets planners turn results into new tasks, leases queued tasks to workers with
/// room, and runs the timers (heartbeats, dead workers, lease deadlines, watcher updates).
/// All state lives on this one thread, so none of it is locked; a frame that does not
/// decode is counted, logged with its sender and dropped.
///
/// The service never names a job kind: everything kind-specific goes through `Workload`.
public final class CoordinatorService {
    let config: CoordinatorConfig
    let registry: WorkloadRegistry
    var logger: Logger
    /// Kept across restarts in the ledger, so that job ids stay unique to this coordinator.
    var coordinatorID: String

    var socket: Socket!
    var leases = LeaseTable()
    var workers = WorkerRegistry()
    var checkpoints: CheckpointStore
    /// The durable record, when the coordinator has a state directory.
    var ledger: Ledger?
    /// Set when a ledger commit failed: the loop stops and `run` throws it.
    var ledgerFailure: LedgerError?
    var jobs: [String: Job] = [:]
    var jobOrder: [String] = []
    var counters = CoordinatorCounters()
    var nextJobNumber = 1
    var heartbeatSequence: UInt64 = 0
    var needsDispatch = false
    /// Outcomes the cross-job cache answered, for their planners (see `deliverCachedAnswers`).
    var cachedAnswers = FIFO<(jobID: String, outcome: TaskOutcome)>()
    /// A few log lines per sender and reason per window, whatever the rate of bad input.
    var logLimiter = LogRateLimiter()
    var clientLimiter: RequestRateLimiter
    /// Status replies built fresh (see `handleStatus`): 50 a second after a burst of 20.
    var statusBuilds = TokenBucket(burst: 20, perSecond: 50, now: MonotonicClock.milliseconds)
    /// The last status reply built, encoded.
    var statusReply: [UInt8]?

    var draining = false
    var drainDeadline: Int64 = 0
    var stopRequested = false

    /// Endpoints actually bound (ports resolved), available once `run` has started.
    public private(set) var boundEndpoints: [String] = []

    public init(config: CoordinatorConfig, registry: WorkloadRegistry = .builtIn, logger: Logger) {
        self.config = config
        self.registry = registry
        self.logger = logger
        self.coordinatorID = "coord-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.checkpoints = CheckpointStore(directory: config.checkpointDirectory)
        self.clientLimiter = RequestRateLimiter(burst: config.clientRequestBurst, perSecond: config.clientRequestsPerSecond)
        self.logger[metadataKey: "coordinator"] = "\(coordinatorID)"
    }

    /// Binds, serves until SIGINT/SIGTERM (then drains) or `requestStop`, and returns.
    /// - Throws: `ZMQError` if a socket cannot be bound; nothing that arrives from the
    ///   network makes it throw.
    public func run(context: ZMQContext) throws {
        if let directory = config.stateDirectory { try openLedger(directory: directory) }
        socket = try Socket(context: context, kind: .router, policy: .control)
        try socket.setRouterMandatory(true)
        try socket.setRouterHandover(true)
        for endpoint in config.endpoints {
            try socket.bind(endpoint)
            let bound = try socket.lastEndpoint()
            boundEndpoints.append(bound)
            logger.info("listening", metadata: ["endpoint": "\(bound)"])
        }
        try writeReadyFile()
        defer { socket.close() }

        let poller = Poller([socket])
        var nextHeartbeat = MonotonicClock.milliseconds
        var nextSweep = MonotonicClock.milliseconds
        while !stopRequested {
            let now = MonotonicClock.milliseconds
            let wait = cachedAnswers.isEmpty ? max(0, min(nextHeartbeat, nextSweep) - now) : 0
            let ready = try poller.poll(timeoutMilliseconds: Int(min(wait, 100)))
            let turnStarted = MonotonicClock.microseconds
            defer { counters.recordLoopTurn(microseconds: MonotonicClock.microseconds - turnStarted) }
            if !ready.isEmpty { try drainInbox() }
            if !cachedAnswers.isEmpty { deliverCachedAnswers() }
            if needsDispatch { dispatch() }
            // Ended jobs' tasks leave memory a slice per turn.
            if leases.removalBacklog > 0 { leases.collectRemoved(budget: 10_000) }
            collectLedger()

            let after = MonotonicClock.milliseconds
            if after >= nextHeartbeat {
                sendHeartbeats()
                nextHeartbeat = after + Int64(config.liveness.intervalMilliseconds)
            }
            if after >= nextSweep {
                declareSilentWorkersDead(now: after)
                expireLeases(now: after)
                noteUnrunnableJobs()
                sendWatcherUpdates(now: after)
                nextSweep = after + Int64(min(config.updateIntervalMilliseconds, config.liveness.intervalMilliseconds / 2))
            }
            handleSignals(now: after)
            if draining { checkDrain(now: after) }
            commitLedger()
        }
        if let ledgerFailure { throw ledgerFailure }
        logger.info("stopped")
    }

    /// Ends the loop after its current turn (for embedding; daemons use signals).
    public func requestStop() { stopRequested = true }

    /// Reads the frames that are waiting, for at most `turnBudgetMicroseconds` (a frame can
    /// carry thousands of results), so that timers, dispatch and every other peer get a
    /// turn under any load; what is left is read on the next turn.
    private func drainInbox() throws {
        let deadline = MonotonicClock.microseconds + Self.turnBudgetMicroseconds
        for index in 0..<4096 {
            guard let frames = try socket.receive(wait: false) else { return }
            handle(frames)
            if index % 8 == 7 && MonotonicClock.microseconds > deadline { return }
        }
    }

    /// How long one turn may spend reading frames.
    static let turnBudgetMicroseconds: Int64 = 10_000

    private func writeReadyFile() throws {
        guard let path = config.readyFile else { return }
        let temporary = path + ".tmp"
        try boundEndpoints.joined(separator: "\n").appending("\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    // MARK: Signals and drain

    private func handleSignals(now: Int64) {
        guard let signal = SignalTrap.take() else { return }
        if draining {
            logger.warning("second \(SignalTrap.name(of: signal)): stopping without waiting for running tasks")
            finishDrain()
            return
        }
        draining = true
        drainDeadline = now + Int64(config.drainTimeoutMilliseconds)
        logger.notice(
            "\(SignalTrap.name(of: signal)): draining; no new work, waiting up to \(config.drainTimeoutMilliseconds) ms for \(leases.leasedCount) running task(s)")
    }

    private func checkDrain(now: Int64) {
        if leases.leasedCount == 0 || now >= drainDeadline { finishDrain() }
    }

    private func finishDrain() {
        for job in jobs.values where job.isRunning {
            for watcher in job.watchers {
                var reject = Orrery_V1_Reject()
                reject.code = .rejectDraining
                reject.reason = "coordinator \(coordinatorID) shut down before job \(job.id) finished"
                send(.reject(reject), to: watcher)
            }
        }
        stopRequested = true
    }

    // MARK: Sending

    /// Sends one message to a peer. Returns false when the peer is unknown to the socket
    /// or its queue is full; the caller decides what that means for its message.
    ///
    /// What a client is told (a job accepted, cancelled, ended; a refusal) is committed to
    /// the ledger first, so a client never hears of something a crash takes back. Frames to
    /// workers go out at once and the turn's changes are committed at its end: a crash in
    /// between loses nothing — a lease the ledger never recorded is cancelled when its
    /// worker re-registers and planned again by replay, a result it never recorded is
    /// produced again — and the commit stays off the lease-to-result round trip.
    @discardableResult
    func send(_ body: EnvelopeBody, to routingID: [UInt8]) -> Bool {
        if Self.acknowledgesToClient(body) { guard commitLedger() else { return false } }
        return send(frame: EnvelopeCodec.encode(body), to: routingID)
    }

    private static func acknowledgesToClient(_ body: EnvelopeBody) -> Bool {
        switch body {
        case .jobAccepted, .jobUpdate, .reject: return true
        default: return false
        }
    }

    /// Sends an already encoded envelope.
    @discardableResult
    func send(frame: [UInt8], to routingID: [UInt8]) -> Bool {
        guard ledgerFailure == nil else { return false }
        do {
            try socket.send([routingID, frame])
            return true
        } catch {
            counters.increment(.sendFailures)
            logger.debug("send failed", metadata: ["peer": "\(PeerName.describe(routingID))", "error": "\(error)"])
            return false
        }
    }
}
