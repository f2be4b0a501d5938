import Runtime
import Wire

/// The worker's side of the control connection, as a pure state machine: the service
/// feeds it the time and what arrived, and carries out the actions it returns.
///
/// ```
///  start ──► registering ──Registered──► registered ──coordinator silent──┐
///               ▲   │ no answer                │ Reject(unknown worker)   │
///               │   ▼                          ▼                          ▼
///               └─ backing off ◄──────────── registering      backing off (reopen socket)
/// ```
/// A Reject for a wrong protocol version or a refused registration is final. A Reject for a
/// duplicate worker id (another live process holds it) backs off and tries again: the
/// other holder may be this worker's own previous process, not yet declared dead.
///
/// Values from the coordinator are bounded before any arithmetic: a `Registered` whose
/// interval or misses lie outside `WireLimits` is answered by keeping the worker's own
/// contract (and a warning), never by overflowing a deadline.
struct ControlConnectionStateMachine {
    enum State: Equatable {
        case idle
        case registering(since: Int64, lastSent: Int64)
        case registered(lastHeard: Int64)
        case backingOff(until: Int64)
    }

    enum Action: Equatable {
        /// Close any old socket, open a fresh one and connect it.
        case openConnection
        case closeConnection
        case sendRegister
        case sendHeartbeat
        /// Registered (again): send the results held while disconnected.
        case flushPending
        /// Give up: the coordinator refused this worker for good.
        case fail(String)
        /// Keep going, but tell the operator: the coordinator sent something odd.
        case warn(String)
    }

    private(set) var state = State.idle
    /// The liveness contract; replaced by the coordinator's in `Registered`.
    private(set) var liveness: (intervalMilliseconds: Int64, misses: Int64)
    private var backoff: ExponentialBackoff
    private var nextHeartbeat: Int64 = 0
    /// How long to wait after a duplicate-id or cluster-full refusal: the other holder, if
    /// it is this worker's own dead predecessor, is declared dead within the liveness window
    /// (but never longer than 30 s, whatever contract a coordinator handed out).
    private var backoffDelayAfterRefusal: Int64 { min(liveness.intervalMilliseconds * liveness.misses, 30_000) }
    /// Times the connection was re-established, for logs and tests.
    private(set) var reconnects = 0

    init(intervalMilliseconds: Int64, misses: Int64, backoff: ExponentialBackoff = ExponentialBackoff()) {
        self.liveness = (intervalMilliseconds, misses)
        self.backoff = backoff
    }

    var isRegistered: Bool { if case .registered = state { true } else { false } }

    private var silenceLimit: Int64 { liveness.intervalMilliseconds * liveness.misses }

    mutating func start(now: Int64) -> [Action] {
        state = .registering(since: now, lastSent: now)
        return [.openConnection, .sendRegister]
    }

    /// Timers: heartbeats, a silent coordinator, a registration with no answer, backoff.
    mutating func tick(now: Int64, backoffDelay: () -> Int64) -> [Action] {
        switch state {
        case .idle:
            return []
        case .registering(let since, let lastSent):
            if now - since > silenceLimit {
                state = .backingOff(until: now + backoffDelay())
                return [.closeConnection]
            }
            if now - lastSent >= liveness.intervalMilliseconds {
                state = .registering(since: since, lastSent: now)
                return [.sendRegister]
            }
            return []
        case .registered(let lastHeard):
            if now - lastHeard > silenceLimit {
                state = .backingOff(until: now + backoffDelay())
                return [.closeConnection]
            }
            if now >= nextHeartbeat {
                nextHeartbeat = now + liveness.intervalMilliseconds
                return [.sendHeartbeat]
            }
            return []
        case .backingOff(let until):
            guard now >= until else { return [] }
            reconnects += 1
            state = .registering(since: now, lastSent: now)
            return [.openConnection, .sendRegister]
        }
    }

    mutating func tick(now: Int64) -> [Action] {
        var backoff = self.backoff
        defer { self.backoff = backoff }
        return tick(now: now) { backoff.nextDelay() }
    }

    /// A message from the coordinator.
    mutating func received(_ body: EnvelopeBody, now: Int64) -> [Action] {
        switch body {
        case .registered(let message):
            var actions: [Action] = []
            if WireLimits.heartbeatIntervalMilliseconds.contains(message.heartbeatIntervalMs)
                && WireLimits.heartbeatMisses.contains(message.heartbeatMisses)
            {
                liveness = (Int64(message.heartbeatIntervalMs), Int64(message.heartbeatMisses))
            } else {
                actions.append(.warn(
                    "coordinator's liveness contract (\(message.heartbeatIntervalMs) ms × \(message.heartbeatMisses)) is outside "
                        + "\(WireLimits.heartbeatIntervalMilliseconds) ms × \(WireLimits.heartbeatMisses); keeping "
                        + "\(liveness.intervalMilliseconds) ms × \(liveness.misses)"))
            }
            backoff.reset()
            state = .registered(lastHeard: now)
            // The first heartbeat goes at once: the coordinator leases nothing to a worker
            // until it has heard from it after its registration.
            nextHeartbeat = now + liveness.intervalMilliseconds
            return actions + [.flushPending, .sendHeartbeat]
        case .reject(let reject):
            switch reject.code {
            case .rejectUnknownWorker:
                // The coordinator restarted or declared us dead: register again at once —
                // once. Every heartbeat or result sent before the answer comes back draws its
                // own refusal, and a second Register would list the running tasks as they
                // were before the first one's leases arrived, handing those back.
                if case .registering = state { return [] }
                state = .registering(since: now, lastSent: now)
                return [.sendRegister]
            case .rejectProtocolVersion, .rejectInvalidRegistration:
                state = .idle
                return [.closeConnection, .fail(reject.reason)]
            case .rejectDuplicateWorker, .rejectClusterFull:
                state = .backingOff(until: now + backoffDelayAfterRefusal)
                let why = reject.code == .rejectClusterFull
                    ? "coordinator admits no more workers" : "coordinator says another live process holds this worker id"
                return [.closeConnection, .warn("\(why) (\(reject.reason)); registering again in \(backoffDelayAfterRefusal) ms")]
            default:
                return []
            }
        default:
            if case .registered = state { state = .registered(lastHeard: now) }
            return []
        }
    }
}
