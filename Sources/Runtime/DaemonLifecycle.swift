import Foundation
import Glibc
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a daemon's blocking loop under swift-service-lifecycle: SIGTERM and SIGINT start a
/// graceful shutdown, a second one (or the graceful deadline running out) stops at once.
///
/// The loop itself stays a synchronous `zmq_poll` loop on a thread of its own (ZeroMQ
/// sockets belong to one thread, and a poll cannot be awaited); the lifecycle reaches it
/// through a `ShutdownMailbox` that the loop reads every turn. The process is never ended
/// with `exit` from inside: `run` returns the loop's outcome, and the command decides the
/// exit status.
public struct DaemonLifecycle: Sendable {
    /// How long a graceful shutdown may take before the lifecycle escalates to an immediate
    /// stop; the loop's own drain deadline should end it well before.
    public var gracefulShutdownLimit: Duration
    public var logger: Logger

    public init(gracefulShutdownLimit: Duration, logger: Logger) {
        self.gracefulShutdownLimit = gracefulShutdownLimit
        self.logger = logger
    }

    /// Runs `loop` on a new thread until it returns or throws, handing it the mailbox that
    /// shutdown requests arrive in.
    public func run<Outcome: Sendable>(
        name: String, _ loop: @escaping @Sendable (ShutdownMailbox) throws -> Outcome
    ) async throws -> Outcome {
        // A peer closing a socket is an error value, not a reason to die.
        signal(SIGPIPE, SIG_IGN)
        // Trapped before the loop starts (and so before a daemon reports itself ready): a
        // signal from then on is never the default action's immediate death.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let service = LoopService(name: name, signals: signals, loop: loop)
        // The service traps SIGTERM and SIGINT itself (see `LoopService`) and starts the
        // group's graceful shutdown, so that its deadline applies; the group traps none.
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracefulShutdownLimit
        let group = ServiceGroup(configuration: configuration)
        service.group.set(group)
        try await group.run()
        return try service.outcome()
    }
}

/// The service that owns the loop's thread: graceful shutdown and cancellation become
/// requests in the mailbox. It traps the signals itself: the first is posted by name (so the
/// loop's log says which) before it starts the group's graceful shutdown, and a second
/// escalates to an immediate stop (a service group reacts only to the first).
private final class LoopService<Outcome: Sendable>: Service, @unchecked Sendable {
    /// The group running this service, set once it exists.
    let group = GroupReference()
    private let signals: UnixSignalsSequence
    private let name: String
    private let loop: @Sendable (ShutdownMailbox) throws -> Outcome
    private let mailbox = ShutdownMailbox()
    private let lock = NSLock()
    private var result: Result<Outcome, any Error>?

    init(name: String, signals: UnixSignalsSequence, loop: @escaping @Sendable (ShutdownMailbox) throws -> Outcome) {
        self.name = name
        self.signals = signals
        self.loop = loop
    }

    func run() async throws {
        let mailbox = self.mailbox, group = self.group, signals = self.signals
        let escalation = Task { await Self.watchSignals(signals, mailbox, group: group) }
        defer { escalation.cancel() }
        let result = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await runLoopOnItsThread()
            } onGracefulShutdown: {
                mailbox.post(.graceful(reason: "shutdown requested"))
            }
        } onCancel: {
            mailbox.post(.immediate(reason: "graceful shutdown took too long"))
        }
        lock.withLock { self.result = result }
    }

    func outcome() throws -> Outcome {
        guard let result = lock.withLock({ result }) else { throw CancellationError() }
        return try result.get()
    }

    private func runLoopOnItsThread() async -> Result<Outcome, any Error> {
        await withCheckedContinuation { continuation in
            let thread = Thread { [loop, mailbox] in
                continuation.resume(returning: Result { try loop(mailbox) })
            }
            thread.name = name
            // The loop runs ledger, planner and decoding code: give it a main-thread-sized stack.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Names the first signal in the mailbox and starts the group's graceful shutdown;
    /// turns the second into an immediate stop.
    private static func watchSignals(_ signals: UnixSignalsSequence, _ mailbox: ShutdownMailbox, group: GroupReference) async {
        var seen = 0
        for await signal in signals {
            seen += 1
            if seen == 1 {
                mailbox.post(.graceful(reason: "\(signal)"))
                await group.get()?.triggerGracefulShutdown()
            } else {
                mailbox.post(.immediate(reason: "second \(signal)"))
            }
        }
    }
}

/// The service group, handed to the service after both exist.
private final class GroupReference: @unchecked Sendable {
    private let lock = NSLock()
    private var group: ServiceGroup?

    func set(_ group: ServiceGroup) { lock.withLock { self.group = group } }
    func get() -> ServiceGroup? { lock.withLock { group } }
}
