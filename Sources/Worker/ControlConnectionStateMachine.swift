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
/// A Reject for a wrong protocol version or a refused registration is final.
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
    }

    private(set) var state = State.idle
    /// The liveness contract; replaced by the coordinator's in `Registered`.
    private(set) var liveness: (intervalMilliseconds: Int64, misses: Int64)
    private var backoff: ExponentialBackoff
    private var nextHeartbeat: Int64 = 0
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
            if message.heartbeatIntervalMs > 0 && message.heartbeatMisses > 0 {
                liveness = (Int64(message.heartbeatIntervalMs), Int64(message.heartbeatMisses))
            }
            backoff.reset()
            state = .registered(lastHeard: now)
            nextHeartbeat = now + liveness.intervalMilliseconds
            return [.flushPending]
        case .reject(let reject):
            switch reject.code {
            case .rejectUnknownWorker:
                // The coordinator restarted or declared us dead: register again at once.
                state = .registering(since: now, lastSent: now)
                return [.sendRegister]
            case .rejectProtocolVersion, .rejectInvalidRegistration, .rejectDuplicateWorker:
                state = .idle
                return [.closeConnection, .fail(reject.reason)]
            default:
                return []
            }
        default:
            if case .registered = state { state = .registered(lastHeard: now) }
            return []
        }
    }
}
