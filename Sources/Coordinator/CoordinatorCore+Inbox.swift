import Logging
import Messaging
import Runtime
import Wire

extension CoordinatorCore {
    /// Routes one frame set from the ROUTER socket. Nothing here throws: a frame that does
    /// not make sense is counted, logged with its sender and dropped.
    func handle(_ frames: [Frame]) {
        counters.increment(.framesReceived)
        guard frames.count == 2 else {
            dropMalformed(from: frames.first ?? [], "expected 2 frames (routing id, envelope), got \(frames.count)")
            return
        }
        let sender = frames[0]
        let body: EnvelopeBody
        do {
            body = try EnvelopeCodec.decode(frames[1])
        } catch {
            if case .wrongVersion = error.reason {
                counters.increment(.framesWrongVersion)
                if logLimited(.warning, "dropped frame", from: sender, why: error.description, key: "version") {
                    reject(sender, .rejectProtocolVersion, error.description)
                }
            } else {
                dropMalformed(from: sender, error.description)
            }
            return
        }
        switch body {
        case .register(let message): handleRegister(message, from: sender)
        case .heartbeat(let message): fromWorker(sender) { handleHeartbeat(message, worker: $0) }
        case .results(let message): fromWorker(sender) { handleResults(message, worker: $0) }
        case .progress(let message): fromWorker(sender) { handleProgress(message, worker: $0) }
        case .checkpoint(let message): fromWorker(sender) { handleCheckpoint(message, worker: $0) }
        case .submitJob(let message): fromClient(sender) { handleSubmit(message, from: sender) }
        case .statusRequest: fromClient(sender) { handleStatus(from: sender) }
        case .cancelJob(let message): fromClient(sender) { handleCancel(message, from: sender) }
        case .watchJob(let message): fromClient(sender) { handleWatch(message, from: sender) }
        case .listJobs(let message): fromClient(sender) { handleListJobs(message, from: sender) }
        case .registered, .leases, .cancel, .shutdown, .reject, .jobAccepted, .jobUpdate, .clusterStatus, .jobList:
            dropMalformed(from: sender, "a coordinator does not accept \(Self.name(of: body)) messages")
        }
    }

    private func dropMalformed(from sender: [UInt8], _ why: String) {
        counters.increment(.framesMalformed)
        logLimited(.warning, "dropped malformed frame", from: sender, why: why, key: "malformed")
    }

    /// Logs a line about what `sender` sent, escaped, at most a few times per sender and
    /// `key` per window (the rest are counted and summed up in the next line written).
    /// Returns whether the line was written: replies to the same bad input follow the same
    /// limit, so that a peer cannot turn a flood into a flood of answers.
    @discardableResult
    func logLimited(
        _ level: Logger.Level, _ message: Logger.Message, from sender: [UInt8], why: @autoclosure () -> String, key: String
    ) -> Bool {
        let written = logLimiter.log(
            logger, level, message, key: String(decoding: sender, as: UTF8.self) + "\u{1}" + key, now: clock.milliseconds(),
            why: why(), metadata: ["peer": "\(PeerName.describe(sender))"])
        if !written { counters.increment(.logLinesSuppressed) }
        return written
    }

    /// The same, about a registered worker's message (by worker id).
    @discardableResult
    func logLimited(_ level: Logger.Level, _ message: Logger.Message, worker: WorkerID, why: @autoclosure () -> String, key: String) -> Bool {
        logLimited(level, message, from: workers[worker]?.routingID ?? Array(worker.rawValue.utf8), why: why(), key: key)
    }

    /// Runs `body` for a client's request unless the client is over its request rate.
    private func fromClient(_ sender: [UInt8], _ body: () -> Void) {
        guard clientLimiter.allow(sender, now: clock.milliseconds()) else {
            counters.increment(.requestsRateLimited)
            guard logLimited(.notice, "client request dropped", from: sender, why: "over its request rate", key: "rate") else { return }
            reject(sender, .rejectRateLimited, "more than \(config.clientRequestBurst) requests at once or \(config.clientRequestsPerSecond) a second; wait and ask again")
            return
        }
        body()
    }

    /// Runs `body` for a registered worker's message; anyone else is told to register.
    private func fromWorker(_ sender: [UInt8], _ body: (WorkerID) -> Void) {
        guard let worker = workers.worker(routingID: sender) else {
            counters.increment(.framesUnknownSender)
            guard logLimited(.info, "message from unregistered peer", from: sender, why: "not registered", key: "unknown") else { return }
            reject(sender, .rejectUnknownWorker, "worker is not registered with coordinator \(coordinatorID); register first")
            return
        }
        workers.heard(worker.id, now: clock.milliseconds())
        body(worker.id)
    }

    func reject(_ peer: [UInt8], _ code: Orrery_V1_RejectCode, _ reason: String) {
        metrics.rejected(code)
        var message = Orrery_V1_Reject()
        message.code = code
        message.reason = reason
        send(.reject(message), to: peer)
    }

    static func name(of body: EnvelopeBody) -> String {
        let text = "\(body)"
        return String(text.prefix { $0 != "(" })
    }
}
