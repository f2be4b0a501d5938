import Runtime
import CZeroMQ

/// One frame of a multipart ZeroMQ message.
public typealias Frame = [UInt8]

/// Owns one libzmq socket. Not thread-safe, like the socket it wraps: create, use and close
/// it on one thread.
///
/// Messages are multipart (`[Frame]`). A ROUTER socket receives the sender's routing id as
/// the first frame and sends to the peer named by the first frame.
public final class Socket {
    let handle: UnsafeMutableRawPointer
    /// Keeps the context alive for as long as this socket is open.
    private let context: ZMQContext
    private var isClosed = false
    public let kind: SocketKind

    /// Opens a socket and applies `policy` before it binds or connects anywhere.
    public init(context: ZMQContext, kind: SocketKind, policy: SocketPolicy) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, kind.rawValue) else {
            throw ZMQError.last("zmq_socket")
        }
        self.handle = handle
        self.context = context
        self.kind = kind
        do {
            try setOption(ZMQ_LINGER, policy.lingerMilliseconds, name: "ZMQ_LINGER")
            try setOption(ZMQ_SNDHWM, policy.sendHighWaterMark, name: "ZMQ_SNDHWM")
            try setOption(ZMQ_RCVHWM, policy.receiveHighWaterMark, name: "ZMQ_RCVHWM")
            try setOption(ZMQ_MAXMSGSIZE, int64: policy.maximumMessageBytes, name: "ZMQ_MAXMSGSIZE")
        } catch {
            zmq_close(handle)
            isClosed = true
            throw error
        }
    }

    deinit { close() }

    /// Closes the socket; unsent messages are kept for the policy's linger time. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    public func bind(_ endpoint: String) throws(ZMQError) {
        try ZMQCall.retryingOnInterrupt("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        try ZMQCall.retryingOnInterrupt("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        try ZMQCall.retryingOnInterrupt("zmq_disconnect(\(endpoint))") { zmq_disconnect(handle, endpoint) }
    }

    /// Sends one multipart message.
    ///
    /// - Parameter wait: when false (the default) a full queue throws `isWouldBlock` at once
    ///   instead of stalling the caller's event loop.
    /// - Throws: `ZMQError`; `isHostUnreachable` when a ROUTER names an unknown peer.
    public func send(_ frames: [Frame], wait: Bool = false) throws(ZMQError) {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        let baseFlags = wait ? Int32(0) : ZMQ_DONTWAIT
        for (index, frame) in frames.enumerated() {
            let flags = index == frames.count - 1 ? baseFlags : baseFlags | ZMQ_SNDMORE
            try ZMQCall.retryingOnInterrupt("zmq_send") {
                frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            }
        }
    }

    /// Receives one multipart message, or returns nil when none is waiting (`wait: false`).
    public func receive(wait: Bool = false) throws(ZMQError) -> [Frame]? {
        var frames: [Frame] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            // Only the first part may be absent; the rest of a multipart message arrive together.
            let flags = (wait || !frames.isEmpty) ? Int32(0) : ZMQ_DONTWAIT
            let rc = zmq_msg_recv(&message, handle, flags)
            if rc < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                if error.isInterrupted { continue }
                if error.isWouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let count = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            frames.append(count == 0 ? [] : Frame(UnsafeRawBufferPointer(start: data, count: count)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    /// Receives one message, waiting at most `timeoutMilliseconds`; nil when none came.
    public func receive(timeoutMilliseconds: Int) throws(ZMQError) -> [Frame]? {
        if let frames = try receive(wait: false) { return frames }
        let poller = Poller([self])
        let deadline = MonotonicClock.milliseconds + Int64(timeoutMilliseconds)
        while true {
            let remaining = deadline - MonotonicClock.milliseconds
            if remaining <= 0 { return nil }
            let ready = try poller.poll(timeoutMilliseconds: Int(remaining))
            if !ready.isEmpty, let frames = try receive(wait: false) { return frames }
        }
    }
}
