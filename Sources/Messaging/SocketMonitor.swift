import CZeroMQ
import Synchronization

/// Connection events of one socket, read from libzmq's monitor (`zmq_socket_monitor`).
///
/// The data plane watches the sockets it sends on: when a peer process dies its TCP or IPC
/// connection closes at once, so a collective can fail naming that peer instead of waiting
/// out its deadline.
public final class SocketMonitor {
    /// What happened to a connection, and its endpoint.
    public enum Event: Equatable, Sendable {
        case connected(endpoint: String)
        case disconnected(endpoint: String)
        /// A security handshake failed: the server refused this side's key (`refused`),
        /// or the two sides spoke different mechanisms or garbled it.
        case handshakeFailed(endpoint: String, refused: Bool)
        case handshakeSucceeded(endpoint: String)
        case other(code: UInt16, endpoint: String)
    }

    /// Readable when an event is waiting; poll it beside the data socket.
    public let socket: Socket
    private let watched: Socket

    private static let serial = Atomic<Int>(0)

    /// Which events a monitor reports.
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let connections = Events(rawValue: ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
        public static let handshakes = Events(
            rawValue: ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    }

    /// Starts watching `watched` for `events` (by default connects and disconnects).
    public init(watching watched: Socket, context: ZMQContext, events: Events = .connections) throws(ZMQError) {
        let number = Self.serial.wrappingAdd(1, ordering: .relaxed).newValue
        let endpoint = "inproc://orrery-monitor-\(number)"
        try ZMQCall.check("zmq_socket_monitor(\(endpoint))") {
            zmq_socket_monitor(watched.handle, endpoint, events.rawValue)
        }
        self.watched = watched
        socket = try Socket(context: context, kind: .pair, policy: .inproc)
        try socket.connect(endpoint)
    }

    /// Stops the monitor; call before closing the watched socket. Idempotent.
    public func close() {
        _ = zmq_socket_monitor(watched.handle, nil, 0)
        socket.close()
    }

    /// The next event, or nil when none is waiting.
    public func next() throws(ZMQError) -> Event? {
        guard let frames = try socket.receive(wait: false) else { return nil }
        guard frames.count == 2, frames[0].count >= 2 else { return .other(code: 0, endpoint: "") }
        let code = UInt16(frames[0][0]) | UInt16(frames[0][1]) << 8
        let endpoint = String(decoding: frames[1], as: UTF8.self)
        switch Int32(code) {
        case ZMQ_EVENT_CONNECTED: return .connected(endpoint: endpoint)
        case ZMQ_EVENT_DISCONNECTED: return .disconnected(endpoint: endpoint)
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return .handshakeSucceeded(endpoint: endpoint)
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return .handshakeFailed(endpoint: endpoint, refused: true)
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            return .handshakeFailed(endpoint: endpoint, refused: false)
        default: return .other(code: code, endpoint: endpoint)
        }
    }
}
