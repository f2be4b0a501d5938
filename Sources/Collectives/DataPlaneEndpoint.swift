import Messaging
import Foundation

/// The socket a worker's peers send to: bound once for the worker's whole life (its
/// address goes into the worker's registration), and lent to one communicator at a time.
///
/// Frames of a ring that has ended may still arrive after it; each communicator drops the
/// ones whose ring tag is not its own.
public final class DataPlaneEndpoint: @unchecked Sendable {
    /// Where peers on other hosts connect, e.g. tcp://10.0.0.5:41234.
    public let endpoint: String
    /// Where peers on this host connect (ipc://…), or nil.
    public let localEndpoint: String?
    /// Guarded by `lock`; the lock is also the memory barrier libzmq asks for when a socket
    /// moves between threads.
    private var socket: Socket?
    private let lock = NSLock()

    /// Binds `bind` (a `tcp://host:*` port is chosen by the kernel) and, if given, `localBind`.
    public init(context: ZMQContext, bind: String, localBind: String? = nil) throws(ZMQError) {
        let socket = try Socket(context: context, kind: .pull, policy: .dataPlane)
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

    /// Takes the socket for one communicator; nil while another has it.
    func borrow() -> Socket? { lock.withLock { socket.take() } }

    /// Hands the socket back.
    func giveBack(_ returned: Socket) { lock.withLock { socket = returned } }

    /// Closes the socket if no communicator holds it.
    public func close() { lock.withLock { socket?.close() } }
}
