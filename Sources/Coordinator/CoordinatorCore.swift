import Foundation
import Ledger
import Logging
import Messaging
import Runtime
import Wire
import Workloads

/// Everything the coordinator knows and decides: the lease table, the worker registry,
/// jobs and their planners, checkpoints, the ledger. It has no socket: events go in
/// (`handle`), and frames to send come out as effects, which `CoordinatorService` (the
/// loop around it) carries out, telling the core about any that could not be delivered.
/// So every rule — gangs, re-forming, drains, cancels by attempt, duplicates, deadlines,
/// restarts — can be driven and checked without sockets (`CoordinatorCoreTests`).
///
/// All of it lives on one thread, so none of it is locked. A frame that does not decode is
/// counted, logged with its sender and dropped. The core never names a job kind:
/// everything kind-specific goes through `Workload`.
public final class CoordinatorCore {
    /// Something that happened, for the core to act on.
    public enum Event {
        /// A message from a peer: its routing id and the envelope, as the socket gave them.
        case frames([Frame])
        /// The end of a turn of the loop: cached answers, dispatch, clean-up, the timers
        /// that are due, a drain's end.
        case turn
        /// The turn's frames are handed to the socket: its records go to the ledger in one
        /// commit (after the frames, so the commit is not on the lease-to-result round trip).
        case endOfTurn
        /// The lifecycle asks the coordinator to stop: gracefully (drain) or at once.
        case shutdown(ShutdownRequest)
        /// An effect the loop could not carry out (the peer is gone or its queue is full).
        case undelivered(Undelivered)
    }

    /// What the loop must do for the core, in order.
    public enum Effect: Equatable {
        /// Sends an encoded envelope to a peer; if that fails, `undelivered` comes back as an event.
        case send(frame: [UInt8], to: [UInt8], ifUndelivered: Undelivered)
    }

    /// What an undelivered frame means to the core.
    public enum Undelivered: Equatable, Sendable {
        /// Nothing: the peer is gone, and whatever it was told does not matter any more.
        case nothing
        /// Leases that never reached their worker: they go back, and the attempt does not count.
        case leases(taskIDs: [TaskID], worker: WorkerID)
        /// A gang member that could not be given its lease: the gang is released.
        case gangLease(taskID: TaskID, member: WorkerID)
        /// A watcher that can no longer be reached.
        case watcher(jobID: JobID, peer: [UInt8])
    }

    let config: CoordinatorConfig
    let registry: WorkloadRegistry
    var logger: Logger
    /// Kept across restarts in the ledger, so that job ids stay unique to this coordinator.
    var coordinatorID: String

    var leases = LeaseTable()
    var workers = WorkerRegistry()
    var checkpoints: CheckpointStore
    /// The durable record, when the coordinator has a state directory.
    var ledger: Ledger?
    /// Set when a ledger commit failed: the core stops and the loop throws it.
    var ledgerFailure: LedgerError?
    var jobs: [JobID: Job] = [:]
    var jobOrder: [JobID] = []
    var counters = CoordinatorCounters()
    var metrics = CoordinatorMetrics()
    /// The CURVE handshakes answered so far, when the service runs a ZAP handler.
    public var securityCounts: (@Sendable () -> ZAPHandler.Counts)?
    var nextJobNumber = 1
    var heartbeatSequence: UInt64 = 0
    var needsDispatch = false
    /// Outcomes the cross-job cache answered, for their planners (see `deliverCachedAnswers`).
    var cachedAnswers = FIFO<(jobID: JobID, outcome: TaskOutcome)>()
    /// A few log lines per sender and reason per window, whatever the rate of bad input.
    var logLimiter = LogRateLimiter()
    var clientLimiter: RequestRateLimiter
    /// Status replies built fresh (see `handleStatus`): 50 a second after a burst of 20.
    var statusBuilds: TokenBucket
    /// The last status reply built, encoded.
    var statusReply: [UInt8]?

    var draining = false
    var drainDeadline: Int64 = 0
    var stopRequested = false
    private var nextHeartbeat: Int64
    private var nextSweep: Int64
    /// Where every rule reads the time.
    let clock: CoordinatorClock
    /// Effects of the event being handled.
    private var outbox: [Effect] = []

    public init(config: CoordinatorConfig, registry: WorkloadRegistry = .builtIn, logger: Logger, clock: CoordinatorClock = .system) {
        self.clock = clock
        let now = clock.milliseconds()
        self.statusBuilds = TokenBucket(burst: 20, perSecond: 50, now: now)
        self.nextHeartbeat = now
        self.nextSweep = now
        self.config = config
        self.registry = registry
        self.logger = logger
        self.coordinatorID = "coord-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.checkpoints = CheckpointStore(directory: config.checkpointDirectory)
        self.clientLimiter = RequestRateLimiter(burst: config.clientRequestBurst, perSecond: config.clientRequestsPerSecond)
        self.logger[metadataKey: "coordinator"] = "\(coordinatorID)"
    }

    /// Opens the ledger (when configured) and resumes the jobs it holds.
    /// - Throws: `LedgerError` naming the file.
    public func start() throws {
        if let directory = config.stateDirectory { try openLedger(directory: directory) }
    }

    /// Acts on one event; returns the frames to send, in order.
    public func handle(_ event: Event) -> [Effect] {
        switch event {
        case .frames(let frames): handle(frames)
        case .turn: turn()
        case .endOfTurn:
            commitLedger()
            metrics.gauges(
                now: clock.milliseconds(), workers: workers.workers.count, jobsRunning: jobs.values.lazy.filter(\.isRunning).count,
                queued: leases.queuedCount, leased: leases.leasedCount, gangsQueued: leases.queuedGangCount)
        case .shutdown(let request): handleShutdown(request, now: clock.milliseconds())
        case .undelivered(let what): undelivered(what)
        }
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    /// True once the core wants the loop to end (a drain finished, an immediate stop, a
    /// ledger that cannot be written).
    public var isStopped: Bool { stopRequested }

    /// Ends the loop after its current turn (for embedding; daemons use shutdown requests).
    public func requestStop() { stopRequested = true }

    /// The ledger error that stopped the core, if one did.
    public var failure: LedgerError? { ledgerFailure }

    /// Milliseconds until the core wants a turn although nothing arrives.
    public func millisecondsUntilDue(now: Int64) -> Int64 {
        if !cachedAnswers.isEmpty { return 0 }
        return max(0, min(nextHeartbeat, nextSweep) - now)
    }

    private func turn() {
        if !cachedAnswers.isEmpty { deliverCachedAnswers() }
        if needsDispatch { dispatch() }
        // Ended jobs' tasks leave memory a slice per turn.
        if leases.removalBacklog > 0 { leases.collectRemoved(budget: 10_000) }
        collectLedger()
        let now = clock.milliseconds()
        if now >= nextHeartbeat {
            sendHeartbeats()
            nextHeartbeat = now + Int64(config.liveness.intervalMilliseconds)
        }
        if now >= nextSweep {
            declareSilentWorkersDead(now: now)
            expireLeases(now: now)
            noteUnrunnableJobs()
            sendWatcherUpdates(now: now)
            nextSweep = now + Int64(min(config.updateIntervalMilliseconds, config.liveness.intervalMilliseconds / 2))
        }
        if draining { checkDrain(now: now) }
    }

    private func undelivered(_ what: Undelivered) {
        switch what {
        case .nothing:
            break
        case .leases(let taskIDs, let worker):
            leases.unlease(taskIDs)
            for id in taskIDs { recordRequeued(id) }
            needsDispatch = true
            logger.warning("lease batch could not be sent; tasks requeued", metadata: ["worker": "\(worker)", "tasks": "\(taskIDs.count)"])
        case .gangLease(let taskID, let member):
            if let release = leases.fail(taskID, worker: member, message: "could not reach gang member \(member)", retryable: true) {
                apply([release])
            }
        case .watcher(let jobID, let peer):
            jobs[jobID]?.watchers.removeAll { $0 == peer }
        }
    }

    // MARK: Signals and drain

    /// A graceful request starts the drain (a later one changes nothing); an immediate one
    /// ends it now.
    private func handleShutdown(_ request: ShutdownRequest, now: Int64) {
        switch request {
        case .immediate(let reason):
            logger.warning("\(reason): stopping without waiting for running tasks")
            draining = true
            finishDrain()
        case .graceful(let reason):
            guard !draining else { return }
            draining = true
            drainDeadline = now + Int64(config.drainTimeoutMilliseconds)
            logger.notice(
                "\(reason): draining; no new work, waiting up to \(config.drainTimeoutMilliseconds) ms for \(leases.leasedCount) running task(s)")
        }
    }

    private func checkDrain(now: Int64) {
        if leases.leasedCount == 0 || now >= drainDeadline { finishDrain() }
    }

    private func finishDrain() {
        for job in jobs.values where job.isRunning {
            for watcher in job.watchers {
                var reject = Orrery_V1_Reject()
                reject.code = .rejectDraining
                reject.reason = ledger == nil
                    ? "coordinator \(coordinatorID) shut down before job \(job.id) finished"
                    : "coordinator \(coordinatorID) shut down before job \(job.id) finished; it resumes when the coordinator starts again on its state directory"
                send(.reject(reject), to: watcher)
            }
        }
        stopRequested = true
    }

    // MARK: Sending

    /// Queues one message to a peer; `ifUndelivered` says what it means if the loop cannot
    /// deliver it.
    ///
    /// What a client is told (a job accepted, cancelled, ended; a refusal) is committed to
    /// the ledger first, so a client never hears of something a crash takes back. Frames to
    /// workers go out as they are and the turn's changes are committed at its end: a crash
    /// in between loses nothing — a lease the ledger never recorded is cancelled when its
    /// worker re-registers and planned again by replay, a result it never recorded is
    /// produced again — and the commit stays off the lease-to-result round trip.
    func send(_ body: EnvelopeBody, to routingID: [UInt8], ifUndelivered: Undelivered = .nothing) {
        if Self.acknowledgesToClient(body) { guard commitLedger() else { return } }
        send(frame: EnvelopeCodec.encode(body), to: routingID, ifUndelivered: ifUndelivered)
    }

    private static func acknowledgesToClient(_ body: EnvelopeBody) -> Bool {
        switch body {
        case .jobAccepted, .jobUpdate, .reject: return true
        default: return false
        }
    }

    /// Queues an already encoded envelope.
    func send(frame: [UInt8], to routingID: [UInt8], ifUndelivered: Undelivered = .nothing) {
        guard ledgerFailure == nil else { return }
        outbox.append(.send(frame: frame, to: routingID, ifUndelivered: ifUndelivered))
    }
}
