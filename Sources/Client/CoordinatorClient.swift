import Foundation
import Messaging
import Runtime
import Wire

/// Talks to a coordinator as a client: submit a job and follow it, ask for status, cancel.
///
/// One DEALER socket, used from one thread. Every wait has a limit: a coordinator that
/// stops answering is an error naming its endpoint, never a hang.
public final class CoordinatorClient {
    public let endpoint: String
    private let socket: Socket
    /// How long to wait for a direct answer, and for the next update while following a job
    /// (the coordinator sends one at least every heartbeat interval).
    public var replyTimeoutMilliseconds = 5_000
    public var silenceTimeoutMilliseconds = 15_000
    /// Silence after which a follower asks for the job again: a coordinator restarted on its
    /// ledger knows the job but not who watched it.
    public var rewatchAfterMilliseconds = 2_500

    /// Watches CURVE handshakes when `curve` is set, so that a refused key is the error
    /// instead of a timeout.
    private let handshakes: SocketMonitor?
    private let curve: CurveSecurity?

    /// - Parameter curve: talk CURVE to a coordinator that runs it: this client's key pair
    ///   and the coordinator's public key (`serverKey`).
    public init(endpoint: String, context: ZMQContext, curve: CurveSecurity? = nil) throws {
        self.endpoint = endpoint
        self.curve = curve
        socket = try Socket(context: context, kind: .dealer, policy: .client)
        if let curve {
            try curve.connectToCoordinator(socket)
            handshakes = try SocketMonitor(watching: socket, context: context, events: .handshakes)
        } else {
            handshakes = nil
        }
        try socket.connect(endpoint)
    }

    deinit {
        handshakes?.close()
        socket.close()
    }

    /// Sends a job spec; returns the job id the coordinator gave it.
    /// - Throws: `ClientError` with `.rejected(.rejectInvalidSpec)` and the field and line
    ///   when the coordinator finds the spec invalid.
    public func submit(specYAML: String, sourceName: String, watch: Bool) throws -> String {
        var submit = Orrery_V1_SubmitJob()
        submit.specYaml = specYAML
        submit.sourceName = sourceName
        submit.watch = watch
        return try request(.submitJob(submit), waitingFor: "an answer to the job submission") {
            if case .jobAccepted(let accepted) = $0 { accepted.jobID } else { nil }
        }
    }

    /// Waits for the job's updates until it ends, passing each to `onUpdate`.
    /// - Parameters:
    ///   - onPoints: receives the job's curve points as they arrive, each exactly once and
    ///     in order (updates repeat points a client may have; they are skipped here).
    ///   - shouldStop: checked between updates; returning true stops with `.interrupted`.
    public func follow(
        jobID: String, onUpdate: (Orrery_V1_JobInfo) -> Void, onPoints: ([Orrery_V1_CurvePoint]) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> Orrery_V1_JobInfo {
        var lastSequence: UInt64 = 0
        var lastHeard = MonotonicClock.milliseconds
        var lastAsked = lastHeard
        while true {
            if shouldStop() { throw ClientError(.interrupted, "interrupted while following job \(jobID)") }
            guard let frames = try socket.receive(timeoutMilliseconds: 200) else {
                let now = MonotonicClock.milliseconds
                if now - lastHeard > Int64(silenceTimeoutMilliseconds) {
                    throw ClientError(.timeout, "coordinator at \(endpoint) went silent while running job \(jobID)")
                }
                if now - max(lastHeard, lastAsked) > Int64(rewatchAfterMilliseconds) {
                    var watch = Orrery_V1_WatchJob()
                    watch.jobID = jobID
                    try? send(.watchJob(watch))
                    lastAsked = now
                }
                continue
            }
            lastHeard = MonotonicClock.milliseconds
            let body = try decode(frames)
            guard case .jobUpdate(let update) = body, update.job.jobID == jobID else {
                if case .reject = body { throw unexpected(body) }
                continue
            }
            let fresh = update.points.filter { $0.sequence > lastSequence }
            if let last = fresh.last {
                lastSequence = last.sequence
                onPoints(fresh)
            }
            onUpdate(update.job)
            if update.job.state != .running { return update.job }
        }
    }

    /// Follows a job submitted earlier (possibly by another client).
    public func watch(
        jobID: String, onUpdate: (Orrery_V1_JobInfo) -> Void, onPoints: ([Orrery_V1_CurvePoint]) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> Orrery_V1_JobInfo {
        var watch = Orrery_V1_WatchJob()
        watch.jobID = jobID
        try send(.watchJob(watch))
        return try follow(jobID: jobID, onUpdate: onUpdate, onPoints: onPoints, shouldStop: shouldStop)
    }

    public func status() throws -> Orrery_V1_ClusterStatus {
        try request(.statusRequest(Orrery_V1_StatusRequest()), waitingFor: "cluster status") {
            if case .clusterStatus(let status) = $0 { status } else { nil }
        }
    }

    /// One job as it stands now (a finished one with its report), without following it.
    public func job(_ jobID: String) throws -> Orrery_V1_JobInfo {
        var watch = Orrery_V1_WatchJob()
        watch.jobID = jobID
        watch.once = true
        return try request(.watchJob(watch), waitingFor: "job \(jobID)") {
            if case .jobUpdate(let update) = $0 { update.job } else { nil }
        }
    }

    /// Past and present jobs, newest first.
    public func jobs(limit: Int) throws -> Orrery_V1_JobList {
        var list = Orrery_V1_ListJobs()
        list.limit = UInt32(clamping: limit)
        return try request(.listJobs(list), waitingFor: "the list of jobs") {
            if case .jobList(let jobs) = $0 { jobs } else { nil }
        }
    }

    /// Cancels a job; returns its final state.
    public func cancel(jobID: String) throws -> Orrery_V1_JobInfo {
        var cancel = Orrery_V1_CancelJob()
        cancel.jobID = jobID
        try send(.cancelJob(cancel))
        while true {
            let reply = try receive(timeoutMilliseconds: replyTimeoutMilliseconds, waitingFor: "the cancellation")
            guard case .jobUpdate(let update) = reply else { throw unexpected(reply) }
            if update.job.jobID == jobID && update.job.state != .running { return update.job }
        }
    }

    // MARK: Frames

    /// Sends `body` and waits for the one answer `answer` accepts (anything else, a
    /// rejection included, is an error).
    private func request<Answer>(_ body: EnvelopeBody, waitingFor what: String, _ answer: (EnvelopeBody) -> Answer?) throws -> Answer {
        try send(body)
        let reply = try receive(timeoutMilliseconds: replyTimeoutMilliseconds, waitingFor: what)
        guard let value = answer(reply) else { throw unexpected(reply) }
        return value
    }

    private func send(_ body: EnvelopeBody) throws {
        do {
            try socket.send([EnvelopeCodec.encode(body)], wait: false)
        } catch {
            throw ClientError(.timeout, "cannot send to coordinator at \(endpoint): \(error)")
        }
    }

    private func receive(timeoutMilliseconds: Int, waitingFor what: String) throws -> EnvelopeBody {
        guard let frames = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else {
            if let refusal = handshakeFailure() { throw refusal }
            throw ClientError(
                .timeout, "no answer from coordinator at \(endpoint) within \(timeoutMilliseconds) ms (waiting for \(what)); is it running?")
        }
        return try decode(frames)
    }

    /// Why the CURVE handshake failed, if the monitor saw it fail.
    private func handshakeFailure() -> ClientError? {
        guard let handshakes, let curve else { return nil }
        var failure: ClientError?
        while case .some(let event) = try? handshakes.next() {
            guard case .handshakeFailed(_, let refused) = event else { continue }
            failure = refused
                ? ClientError(.securityRefused, "coordinator at \(endpoint) refused this client's CURVE key \(curve.keyPair.publicKey.fingerprint): it is not in the coordinator's allow-list")
                : ClientError(.securityRefused, "the CURVE handshake with the coordinator at \(endpoint) failed: check its public key, and that it runs CURVE")
        }
        return failure
    }

    private func decode(_ frames: [Frame]) throws -> EnvelopeBody {
        guard frames.count == 1 else { throw ClientError(.badReply, "coordinator sent \(frames.count) frames; expected 1") }
        do {
            return try EnvelopeCodec.decode(frames[0])
        } catch {
            throw ClientError(.badReply, "unreadable reply from coordinator at \(endpoint): \(error)")
        }
    }

    private func unexpected(_ body: EnvelopeBody) -> ClientError {
        if case .reject(let reject) = body { return ClientError(.rejected(reject.code), reject.reason) }
        return ClientError(.badReply, "unexpected reply from coordinator: \(body)")
    }
}
