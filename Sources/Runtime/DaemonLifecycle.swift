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
        let service = LoopService(name: name, loop: loop)
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracefulShutdownLimit
        try await ServiceGroup(configuration: configuration).run()
        return try service.outcome()
    }
}

/// The service that owns the loop's thread: graceful shutdown and cancellation become
/// requests in the mailbox, and a second signal escalates to an immediate stop (the service
/// group only reacts to the first).
private final class LoopService<Outcome: Sendable>: Service, @unchecked Sendable {
    private let name: String
    private let loop: @Sendable (ShutdownMailbox) throws -> Outcome
    private let mailbox = ShutdownMailbox()
    private let lock = NSLock()
    private var result: Result<Outcome, any Error>?

    init(name: String, loop: @escaping @Sendable (ShutdownMailbox) throws -> Outcome) {
        self.name = name
        self.loop = loop
    }

    func run() async throws {
        let mailbox = self.mailbox
        let escalation = Task { await Self.escalateOnSecondSignal(mailbox) }
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

    /// Names the first signal in the mailbox and turns the second into an immediate stop.
    private static func escalateOnSecondSignal(_ mailbox: ShutdownMailbox) async {
        var seen = 0
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            seen += 1
            mailbox.post(seen == 1 ? .graceful(reason: "\(signal)") : .immediate(reason: "second \(signal)"))
        }
    }
}
