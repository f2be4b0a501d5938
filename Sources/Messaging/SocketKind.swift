import CZeroMQ

/// The ZeroMQ socket patterns Orrery uses.
public enum SocketKind: Sendable, CaseIterable {
    /// The coordinator's control socket: addresses each peer by its routing id.
    case router
    /// A worker's or client's control socket: asynchronous requests and replies.
    case dealer
    /// An exclusive pair, used for in-process wake-ups.
    case pair
    /// One-way fan-in from worker threads to their owner.
    case push
    case pull
    /// Answers requests in turn; the ZAP handler's socket.
    case rep

    var rawValue: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .pair: ZMQ_PAIR
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .rep: ZMQ_REP
        }
    }
}
