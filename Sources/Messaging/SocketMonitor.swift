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
        case other(code: UInt16, endpoint: String)
    }

    /// Readable when an event is waiting; poll it beside the data socket.
    public let socket: Socket
    private let watched: Socket

    private static let serial = Atomic<Int>(0)

    /// Starts watching `watched` for connects and disconnects.
    public init(watching watched: Socket, context: ZMQContext) throws(ZMQError) {
        let number = Self.serial.wrappingAdd(1, ordering: .relaxed).newValue
        let endpoint = "inproc://orrery-monitor-\(number)"
        try ZMQCall.check("zmq_socket_monitor(\(endpoint))") {
            zmq_socket_monitor(watched.handle, endpoint, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
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
        default: return .other(code: code, endpoint: endpoint)
        }
    }
}
