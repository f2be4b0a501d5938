import Foundation
import Messaging
import Runtime
import Wire

/// A coordinator that turns on its worker: it answers a real worker's registration, then
/// sends it hostile messages (leases of every workload with payloads at the edges, liveness
/// contracts out of range, cancels, rejects, junk) and reads whatever comes back.
///
/// It never sends `Shutdown` or a final `Reject` (protocol version, invalid registration):
/// those stop a worker by design, which is not a crash.
public final class FakeCoordinator {
    private let socket: Socket
    private var frames: HostileFrames
    /// The worker's routing id, once it has registered.
    public private(set) var worker: [UInt8]?
    public private(set) var workerID = ""
    /// When the worker was last heard from (monotonic milliseconds).
    public private(set) var lastHeard: Int64 = 0
    /// Heartbeats and results received in all.
    public private(set) var heartbeats = 0
    public private(set) var results = 0
    /// Well-formed envelopes received from the worker.
    public private(set) var messagesFromWorker = 0
    /// The endpoint actually bound.
    public let endpoint: String

    public init(bind: String, context: ZMQContext, seed: UInt64) throws {
        socket = try Socket(context: context, kind: .router, policy: CoordinatorFuzzer.policy)
        try socket.setRouterMandatory(true)
        try socket.setRouterHandover(true)
        try socket.bind(bind)
        endpoint = try socket.lastEndpoint()
        frames = HostileFrames(seed: seed)
    }

    deinit { socket.close() }

    /// Waits for the worker to register (answering it) until `deadline`.
    public func awaitWorker(deadline: Int64) -> Bool {
        while worker == nil && MonotonicClock.milliseconds < deadline {
            pump(waitMilliseconds: 50)
        }
        return worker != nil
    }

    /// Sends `count` hostile messages to the registered worker.
    public func run(count: Int, deadline: Int64 = .max) -> FuzzReport {
        var report = FuzzReport()
        let started = MonotonicClock.milliseconds
        while report.frames < count && MonotonicClock.milliseconds < deadline {
            guard let worker else {
                pump(waitMilliseconds: 10)
                continue
            }
            let message = frames.next { $0.fromCoordinator(workerID: workerID) }
            // A damaged frame can decode as one of the messages that stop or pause a worker
            // by design.
            if message.count == 1, Self.stopsWorkerByDesign(message[0]) { continue }
            if MonotonicClock.milliseconds - lastHeard > 10_000 { break }  // the worker is gone
            do {
                try socket.send([worker] + message)
                report.frames += 1
            } catch {
                // The worker is reconnecting (a liveness contract of 10 ms makes it think we
                // went silent) or its queue is full: let it catch up.
                report.backpressure += 1
                pump(waitMilliseconds: 1)
            }
            if report.frames % 32 == 0 { report.replies += pump(waitMilliseconds: 0) }
        }
        report.replies += pump(waitMilliseconds: 0)
        report.seconds = Double(MonotonicClock.milliseconds - started) / 1000
        return report
    }

    /// After a pass: hands the worker a sane contract and reports whether it is heard from
    /// (a heartbeat, or a registration after its reconnect backoff) within `milliseconds`.
    /// A hostile but valid contract may have made it heartbeat only every ten minutes, or
    /// decide this coordinator went silent: either way it must come back.
    public func workerStillAlive(milliseconds: Int) -> Bool {
        if let worker { try? socket.send([worker, EnvelopeCodec.encode(.registered(Self.saneContract))]) }
        let before = messagesFromWorker
        let deadline = MonotonicClock.milliseconds + Int64(milliseconds)
        while MonotonicClock.milliseconds < deadline && messagesFromWorker == before { pump(waitMilliseconds: 20) }
        return messagesFromWorker > before
    }

    /// `Shutdown`, a `Reject` a worker must treat as final, or one after which it backs off
    /// for a while (a duplicate id, a full cluster).
    static func stopsWorkerByDesign(_ frame: Frame) -> Bool {
        switch try? EnvelopeCodec.decode(frame) {
        case .shutdown: true
        case .reject(let reject):
            [.rejectProtocolVersion, .rejectInvalidRegistration, .rejectDuplicateWorker, .rejectClusterFull].contains(reject.code)
        default: false
        }
    }

    static var saneContract: Orrery_V1_Registered {
        var registered = Orrery_V1_Registered()
        registered.coordinatorID = "fuzz-coordinator"
        registered.heartbeatIntervalMs = 200
        registered.heartbeatMisses = 10
        return registered
    }

    /// Reads what the worker sent; answers every registration with a sane contract.
    @discardableResult
    private func pump(waitMilliseconds: Int) -> Int {
        var count = 0
        if waitMilliseconds > 0 { _ = try? Poller([socket]).poll(timeoutMilliseconds: waitMilliseconds) }
        while count < 10_000, let message = (try? socket.receive(wait: false)) ?? nil {
            count += 1
            guard message.count == 2, let body = try? EnvelopeCodec.decode(message[1]) else { continue }
            lastHeard = MonotonicClock.milliseconds
            messagesFromWorker += 1
            switch body {
            case .register(let register):
                worker = message[0]
                workerID = register.workerID
                try? socket.send([message[0], EnvelopeCodec.encode(.registered(Self.saneContract))])
            case .heartbeat: heartbeats += 1
            case .results(let batch): results += batch.results.count
            default: break
            }
        }
        return count
    }
}
