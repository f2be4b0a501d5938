import Foundation
import Messaging
import Wire

/// The socket a worker's peers send to: bound once for the worker's whole life (its
/// address goes into the worker's registration), and lent to one communicator at a time.
///
/// Anyone who can reach the address can send to it, so what waits there is bounded three
/// ways: a frame is at most `SocketPolicy.maximumDataPlaneMessageBytes` (libzmq drops a
/// connection that announces more), each connection queues at most 64 frames, and while no
/// communicator holds the socket the worker's service thread drains it
/// (`drainWhileIdle`): frames that are not collective frames of some ring are dropped at
/// once and counted; well-formed ones are kept, at most `maximumEarlyFrames`, because a
/// gang peer that got its lease first may already be sending to a ring this worker has
/// not joined yet. The next communicator replays the kept frames of its own ring first and
/// drops the rest, as it drops stale frames arriving on the socket.
public final class DataPlaneEndpoint: @unchecked Sendable {
    /// A well-formed frame that arrived while no ring held the socket.
    struct EarlyFrame {
        let header: Orrery_V1_CollectiveFrame
        let payload: [UInt8]
    }

    /// Where peers on other hosts connect, e.g. tcp://10.0.0.5:41234.
    public let endpoint: String
    /// Where peers on this host connect (ipc://…), or nil.
    public let localEndpoint: String?
    /// Kept early frames at most; older ones are dropped first.
    public static let maximumEarlyFrames = 64
    /// Guarded by `lock`; the lock is also the memory barrier libzmq asks for when a socket
    /// moves between threads.
    private var socket: Socket?
    private var early: [EarlyFrame] = []
    private var dropped: UInt64 = 0
    /// True while `drainWhileIdle` holds the socket.
    private var draining = false
    private let lock = NSLock()
    /// Used only by whoever holds the socket.
    private let incoming = ReceivedMessage()

    /// This worker's CURVE key pair when its data plane is encrypted: the receiving socket
    /// is a CURVE server of it, and the sockets it opens to peers prove themselves with it.
    public let curveKeyPair: CurveKeyPair?

    /// Binds `bind` (a `tcp://host:*` port is chosen by the kernel) and, if given, `localBind`.
    ///
    /// - Parameter curve: encrypts the data plane: peers must hold a key that the security's
    ///   allow-list lists, which `zapHandler` checks (under the data domain).
    public init(
        context: ZMQContext, bind: String, localBind: String? = nil, curve: (security: CurveSecurity, zapHandler: ZAPHandler)? = nil
    ) throws {
        let socket = try Socket(context: context, kind: .pull, policy: .dataPlaneReceive)
        if let curve { try curve.security.serve(socket, domain: CurveSecurity.Domain.data, handler: curve.zapHandler) }
        curveKeyPair = curve?.security.keyPair
        try socket.bind(bind)
        endpoint = try socket.lastEndpoint()
        if let localBind {
            try socket.bind(localBind)
            localEndpoint = try socket.lastEndpoint()
        } else {
            localEndpoint = nil
        }
        self.socket = socket
    }

    /// Takes the socket for one communicator; nil while another has it. An idle drain
    /// holds it only briefly, and is waited for.
    func borrow() -> Socket? {
        while true {
            let (taken, waitForDrain) = lock.withLock { () -> (Socket?, Bool) in
                if let taken = socket.take() { return (taken, false) }
                return (nil, draining)
            }
            if !waitForDrain { return taken }
            usleep(100)
        }
    }

    /// Hands the socket back.
    func giveBack(_ returned: Socket) { lock.withLock { socket = returned } }

    /// The frames kept since the last communicator, oldest first; the caller owns them now.
    func takeEarlyFrames() -> [EarlyFrame] {
        lock.withLock {
            defer { early = [] }
            return early
        }
    }

    /// Counts frames a communicator dropped (another ring's, or not a frame at all).
    func countDropped(_ count: Int) { lock.withLock { dropped += UInt64(count) } }

    /// Frames dropped so far, by the idle drain and by communicators.
    public var droppedFrames: UInt64 { lock.withLock { dropped } }

    /// Reads up to `limit` waiting frames while no communicator holds the socket, dropping
    /// malformed ones and keeping well-formed ones for the next ring (see the type's note).
    ///
    /// - Returns: how many frames were dropped by this call.
    @discardableResult
    public func drainWhileIdle(limit: Int = 16_384) -> Int {
        let taken = lock.withLock { () -> Socket? in
            guard let taken = socket.take() else { return nil }
            draining = true
            return taken
        }
        guard let socket = taken else { return 0 }
        var droppedNow = 0
        var kept: [EarlyFrame] = []
        for _ in 0..<limit {
            guard (try? socket.receive(into: incoming, wait: false)) == true else { break }
            guard let frame = Self.header(of: incoming) else {
                droppedNow += 1
                continue
            }
            kept.append(EarlyFrame(header: frame, payload: incoming.count > 1 ? Array(incoming.frame(1)) : []))
        }
        lock.withLock {
            early += kept
            if early.count > Self.maximumEarlyFrames {
                droppedNow += early.count - Self.maximumEarlyFrames
                early.removeFirst(early.count - Self.maximumEarlyFrames)
            }
            dropped += UInt64(droppedNow)
            self.socket = socket
            draining = false
        }
        return droppedNow
    }

    /// The collective header of a received message, if it is one: one or two frames, a
    /// header that decodes, a ring tag that is set.
    static func header(of message: ReceivedMessage) -> Orrery_V1_CollectiveFrame? {
        guard message.count == 1 || message.count == 2,
            let frame = try? Orrery_V1_CollectiveFrame(serializedBytes: Array(message.frame(0)), options: EnvelopeCodec.decodingOptions),
            frame.ringTag != 0, frame.body != nil
        else { return nil }
        return frame
    }

    /// Closes the socket if no communicator holds it.
    public func close() { lock.withLock { socket?.close() } }
}
