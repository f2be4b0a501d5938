import CZeroMQ
import Foundation
import Logging
import Metrics
import Runtime
import Synchronization

/// Decides who may complete a CURVE handshake with this process's server sockets: libzmq
/// asks it (ZAP, RFC 27) for every incoming connection, and it admits the client's public
/// key only if the allow-list of the socket's domain lists it.
///
/// One handler serves one context (libzmq finds it at a fixed inproc address), on a thread
/// of its own. It must be running before any CURVE server socket binds: libzmq admits
/// every well-formed CURVE client when no handler answers. Refusals are counted
/// (`orrery_curve_refused_total`, by domain) and logged with the key's fingerprint.
public final class ZAPHandler: @unchecked Sendable {
    /// What one request was answered, for counting and tests.
    public struct Counts: Sendable, Equatable {
        public var admitted = 0
        public var refused = 0
    }

    private let lock = NSLock()
    private var domains: [String: CurveAllowList] = [:]
    private var tally = Counts()
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let logger = Logger(label: "orrery.security")
    private var limiter = LogRateLimiter(burst: 3, windowMilliseconds: 10_000)

    /// The fixed address libzmq sends ZAP requests to.
    static let endpoint = "inproc://zeromq.zap.01"

    /// Binds the ZAP address in `context` and starts answering.
    /// - Throws: `ZMQError` (EADDRINUSE when the context has a handler already).
    public init(context: ZMQContext) throws(ZMQError) {
        let socket = try Socket(context: context, kind: .rep, policy: .inproc)
        try socket.bind(Self.endpoint)
        // The socket moves to the handler's thread; starting a thread is a memory barrier.
        let box = SocketBox(socket)
        let thread = Thread { [self] in
            serve(box.socket)
            box.socket.close()
            finished.signal()
        }
        thread.name = "orrery-zap"
        thread.start()
    }

    /// Admits, on server sockets of `domain`, the keys `allowList` lists (read at each request).
    public func admit(domain: String, allowList: CurveAllowList) {
        lock.withLock { domains[domain] = allowList }
    }

    /// Requests answered so far.
    public var counts: Counts { lock.withLock { tally } }

    /// Stops answering and closes the socket; needed only before a context is terminated
    /// (daemons keep their handler for the life of the process).
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func serve(_ socket: Socket) {
        let poller = Poller([socket])
        while !stopping.load(ordering: .acquiring) {
            guard let ready = try? poller.poll(timeoutMilliseconds: 200), !ready.isEmpty else { continue }
            while let request = try? socket.receive(wait: false) {
                try? socket.send(answer(request), wait: true)
            }
        }
    }

    /// The reply to one request: version, request id, status code and text, user id, metadata.
    func answer(_ request: [Frame]) -> [Frame] {
        // 1.0, request id, domain, address, routing id, mechanism, credentials…
        guard request.count >= 6, request[0] == Array("1.0".utf8) else {
            return reply(to: request.count > 1 ? request[1] : [], code: "500", text: "malformed ZAP request")
        }
        let id = request[1]
        let domain = String(decoding: request[2], as: UTF8.self)
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        guard mechanism == "CURVE", request.count >= 7, let key = try? CurvePublicKey(bytes: request[6]) else {
            return refuse(id, domain: domain, address: address, why: "mechanism \(mechanism) is not CURVE", key: nil)
        }
        guard let allowList = lock.withLock({ domains[domain] }) else {
            return refuse(id, domain: domain, address: address, why: "no allow-list for domain '\(domain)'", key: key)
        }
        guard let name = allowList.name(of: key) else {
            return refuse(id, domain: domain, address: address, why: "key not in \(allowList.path)", key: key)
        }
        lock.withLock { tally.admitted += 1 }
        logger.debug("admitted \(name)", metadata: ["domain": "\(domain)", "address": "\(address)", "key": "\(key.fingerprint)"])
        return reply(to: id, code: "200", text: "OK", user: key.z85)
    }

    private func refuse(_ id: Frame, domain: String, address: String, why: String, key: CurvePublicKey?) -> [Frame] {
        lock.withLock { tally.refused += 1 }
        Counter(label: "orrery_curve_refused_total", dimensions: [("domain", domain)]).increment()
        let fingerprint = key?.fingerprint ?? "none"
        limiter.log(
            logger, .warning, "refused a CURVE peer", key: fingerprint, now: MonotonicClock.milliseconds, why: why,
            metadata: ["domain": "\(domain)", "address": "\(address)", "key": "\(fingerprint)"])
        return reply(to: id, code: "400", text: why)
    }

    private func reply(to id: Frame, code: String, text: String, user: String = "") -> [Frame] {
        [Array("1.0".utf8), id, Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
    }
}

/// Hands a socket to the thread that will own it.
private final class SocketBox: @unchecked Sendable {
    let socket: Socket
    init(_ socket: Socket) { self.socket = socket }
}
