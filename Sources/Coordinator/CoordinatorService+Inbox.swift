import Messaging
import Runtime
import Wire

extension CoordinatorService {
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
                logger.warning("dropped frame", metadata: ["peer": "\(PeerName.describe(sender))", "why": "\(error)"])
                reject(sender, .rejectProtocolVersion, error.description)
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
        case .submitJob(let message): handleSubmit(message, from: sender)
        case .statusRequest: handleStatus(from: sender)
        case .cancelJob(let message): handleCancel(message, from: sender)
        case .watchJob(let message): handleWatch(message, from: sender)
        case .registered, .leases, .cancel, .shutdown, .reject, .jobAccepted, .jobUpdate, .clusterStatus:
            dropMalformed(from: sender, "a coordinator does not accept \(Self.name(of: body)) messages")
        }
    }

    private func dropMalformed(from sender: [UInt8], _ why: String) {
        counters.increment(.framesMalformed)
        logger.warning("dropped malformed frame", metadata: ["peer": "\(PeerName.describe(sender))", "why": "\(why)"])
    }

    /// Runs `body` for a registered worker's message; anyone else is told to register.
    private func fromWorker(_ sender: [UInt8], _ body: (String) -> Void) {
        guard let worker = workers.worker(routingID: sender) else {
            counters.increment(.framesUnknownSender)
            logger.info("message from unregistered peer", metadata: ["peer": "\(PeerName.describe(sender))"])
            reject(sender, .rejectUnknownWorker, "worker is not registered with coordinator \(coordinatorID); register first")
            return
        }
        workers.heard(worker.id, now: MonotonicClock.milliseconds)
        body(worker.id)
    }

    func reject(_ peer: [UInt8], _ code: Orrery_V1_RejectCode, _ reason: String) {
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
