import Foundation
import Logging
import Messaging
import Runtime
import Wire
import Workloads

/// The coordinator daemon: one ROUTER socket, one thread, one loop around a
/// `CoordinatorCore`.
///
/// Workers and clients connect DEALER sockets. Each turn the loop polls, hands every frame
/// that has arrived to the core (for at most `turnBudgetMicroseconds`, so that timers and
/// every peer get a turn under any load), lets the core run its turn, and sends what the
/// core asks it to, telling it about any frame that could not be delivered. Shutdown
/// requests (from `DaemonLifecycle`'s mailbox) are passed on as events. The loop knows no
/// rule of its own.
public final class CoordinatorService {
    let config: CoordinatorConfig
    var logger: Logger
    /// The state and every rule; the loop only moves frames in and out of it.
    public let core: CoordinatorCore
    private var socket: Socket!
    /// Answers CURVE handshakes (ZAP) while the coordinator serves with `config.curve`.
    private var zapHandler: ZAPHandler?

    /// Endpoints actually bound (ports resolved), available once `run` has started.
    public private(set) var boundEndpoints: [String] = []
    /// Questions from other threads (the HTTP server's), answered between turns.
    public let queries: CoordinatorQueries

    public init(config: CoordinatorConfig, registry: WorkloadRegistry = .builtIn, queries: CoordinatorQueries = CoordinatorQueries(), logger: Logger) {
        self.config = config
        self.queries = queries
        self.logger = logger
        self.core = CoordinatorCore(config: config, registry: registry, logger: logger)
    }

    /// Opens the ledger, binds, serves until a shutdown request arrives in `mailbox` (a
    /// graceful one drains first) or `requestStop`, and returns.
    /// - Throws: `LedgerError` for a ledger that cannot be opened or written, `ZMQError` if a
    ///   socket cannot be bound; nothing that arrives from the network makes it throw.
    public func run(context: ZMQContext, mailbox: ShutdownMailbox = ShutdownMailbox()) throws {
        try core.start()
        socket = try Socket(context: context, kind: .router, policy: .control)
        try socket.setRouterMandatory(true)
        try socket.setRouterHandover(true)
        if let curve = config.curve {
            let handler = try ZAPHandler(context: context)
            zapHandler = handler
            core.securityCounts = { handler.counts }
            try curve.serve(socket, domain: CurveSecurity.Domain.control, handler: handler)
            logger.info("CURVE on", metadata: ["key": "\(curve.keyPair.publicKey.fingerprint)", "admitted_keys": "\(curve.allowList?.count ?? 0)"])
        }
        for endpoint in config.endpoints {
            try socket.bind(endpoint)
            let bound = try socket.lastEndpoint()
            boundEndpoints.append(bound)
            logger.info("listening", metadata: ["endpoint": "\(bound)"])
        }
        try writeReadyFile()
        defer {
            queries.close(answering: core)
            socket.close()
            zapHandler?.stop()
        }

        let poller = Poller([socket])
        while !core.isStopped {
            let wait = core.millisecondsUntilDue(now: MonotonicClock.milliseconds)
            // A question from the HTTP side waits at most `questionWaitMilliseconds`.
            let ready = try poller.poll(timeoutMilliseconds: queries.hasWaiting ? 0 : Int(min(wait, queries.inUse ? Self.questionWaitMilliseconds : 100)))
            let turnStarted = MonotonicClock.microseconds
            if !ready.isEmpty { try drainInbox() }
            queries.answer(with: core)
            while let request = mailbox.take() { carryOut(core.handle(.shutdown(request))) }
            carryOut(core.handle(.turn))
            carryOut(core.handle(.endOfTurn))
            core.counters.recordLoopTurn(microseconds: MonotonicClock.microseconds - turnStarted)
        }
        if let failure = core.failure { throw failure }
        logger.info("stopped")
    }

    /// Ends the loop after its current turn (for embedding; daemons use the mailbox).
    public func requestStop() { core.requestStop() }

    /// Reads the frames that are waiting, for at most `turnBudgetMicroseconds` (a frame can
    /// carry thousands of results); what is left is read on the next turn.
    private func drainInbox() throws {
        let deadline = MonotonicClock.microseconds + Self.turnBudgetMicroseconds
        for index in 0..<4096 {
            guard let frames = try socket.receive(wait: false) else { return }
            carryOut(core.handle(.frames(frames)))
            if index % 8 == 7 && MonotonicClock.microseconds > deadline { return }
        }
    }

    /// The longest the loop sleeps in a poll: bounds how long an HTTP question waits for
    /// an idle loop (a busy one turns far more often).
    static let questionWaitMilliseconds: Int64 = 20

    /// How long one turn may spend reading frames.
    static let turnBudgetMicroseconds: Int64 = 10_000

    /// Sends what the core asked for, in order; a frame that cannot be sent (the peer is
    /// unknown to the socket, or its queue is full) goes back to the core as an event.
    private func carryOut(_ effects: [CoordinatorCore.Effect]) {
        var pending = effects
        while !pending.isEmpty {
            var undelivered: [CoordinatorCore.Undelivered] = []
            for case .send(let frame, let peer, let ifUndelivered) in pending {
                do {
                    try socket.send([peer, frame])
                } catch {
                    core.counters.increment(.sendFailures)
                    logger.debug("send failed", metadata: ["peer": "\(PeerName.describe(peer))", "error": "\(error)"])
                    if ifUndelivered != .nothing { undelivered.append(ifUndelivered) }
                }
            }
            pending = undelivered.flatMap { core.handle(.undelivered($0)) }
        }
    }

    private func writeReadyFile() throws {
        guard let path = config.readyFile else { return }
        let temporary = path + ".tmp"
        try (boundEndpoints + config.advertisedURLs).joined(separator: "\n").appending("\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
