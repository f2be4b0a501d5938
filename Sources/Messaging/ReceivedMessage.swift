import CZeroMQ

/// A multipart message received in place: its frames stay in libzmq's buffers until the
/// next receive into the same object, so that a large tensor frame is reduced or copied
/// straight from where it arrived instead of first becoming an array.
///
/// Reuse one per receiving loop; it is not thread-safe, like the socket it is filled from.
public final class ReceivedMessage {
    private var parts: UnsafeMutablePointer<zmq_msg_t>
    private var capacity: Int
    /// Frames held now.
    public private(set) var count = 0

    public init(capacity: Int = 4) {
        self.capacity = Swift.max(1, capacity)
        parts = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity { zmq_msg_init(parts + i) }
    }

    deinit {
        for i in 0..<capacity { zmq_msg_close(parts + i) }
        parts.deallocate()
    }

    /// The bytes of frame `index` (valid until the next receive into this message).
    public func frame(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index < count, "frame \(index) of a \(count)-frame message")
        return UnsafeRawBufferPointer(start: zmq_msg_data(parts + index), count: zmq_msg_size(parts + index))
    }

    /// The slot for the next frame, growing the set when a message has more parts than seen so far.
    func slot(_ index: Int) -> UnsafeMutablePointer<zmq_msg_t> {
        if index == capacity {
            let grown = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: capacity * 2)
            // libzmq forbids copying a zmq_msg_t's bytes: frames move with zmq_msg_move.
            for i in 0..<(capacity * 2) { zmq_msg_init(grown + i) }
            for i in 0..<capacity {
                zmq_msg_move(grown + i, parts + i)
                zmq_msg_close(parts + i)
            }
            parts.deallocate()
            parts = grown
            capacity *= 2
        }
        return parts + index
    }

    func setCount(_ count: Int) { self.count = count }
}

extension Socket {
    /// Receives one multipart message into `message` without copying its frames.
    ///
    /// - Returns: false when `wait` is false and no message is waiting.
    public func receive(into message: ReceivedMessage, wait: Bool) throws(ZMQError) -> Bool {
        var index = 0
        while true {
            let flags = (wait || index > 0) ? Int32(0) : ZMQ_DONTWAIT
            let part = message.slot(index)
            let rc = zmq_msg_recv(part, handle, flags)
            if rc < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                if error.isInterrupted { continue }
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
            index += 1
            if zmq_msg_more(part) == 0 {
                message.setCount(index)
                return true
            }
        }
    }

    /// Sends one multipart message whose frames are raw byte ranges (a small header and a
    /// tensor slice, say), copying each once into libzmq.
    public func send(raw frames: [UnsafeRawBufferPointer], wait: Bool = false) throws(ZMQError) {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        let baseFlags = wait ? Int32(0) : ZMQ_DONTWAIT
        for (index, frame) in frames.enumerated() {
            let flags = index == frames.count - 1 ? baseFlags : baseFlags | ZMQ_SNDMORE
            try ZMQCall.retryingOnInterrupt("zmq_send") { zmq_send(handle, frame.baseAddress, frame.count, flags) }
        }
    }
}
