import CZeroMQ

/// Waits until any of a fixed set of sockets has a message to read.
///
/// The set is fixed at creation so that an event loop builds it once and polls it many
/// times without allocating.
public final class Poller {
    private let sockets: [Socket]
    private var items: [zmq_pollitem_t]

    public init(_ sockets: [Socket]) {
        self.sockets = sockets
        self.items = sockets.map {
            zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        }
    }

    /// Indices (into the sockets given at creation) that are readable.
    ///
    /// - Parameter timeoutMilliseconds: -1 waits without limit, 0 only checks.
    /// - Returns: an empty array on timeout or when a signal interrupted the wait, so that
    ///   the caller's loop can look at its shutdown flag.
    public func poll(timeoutMilliseconds: Int) throws(ZMQError) -> [Int] {
        let count = Int32(items.count)
        let rc = items.withUnsafeMutableBufferPointer {
            zmq_poll($0.baseAddress, count, timeoutMilliseconds)
        }
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error.isInterrupted { return [] }
            throw error
        }
        if rc == 0 { return [] }
        var ready: [Int] = []
        for index in items.indices where items[index].revents & Int16(ZMQ_POLLIN) != 0 {
            ready.append(index)
        }
        return ready
    }
}
