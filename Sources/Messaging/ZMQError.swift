import CZeroMQ

/// A failed libzmq call: the errno it set, libzmq's own text for it, and which call failed.
///
/// Callers match on the common conditions through the `is…` properties rather than on raw
/// errno values, so that the set can grow without breaking them.
public struct ZMQError: Error, Equatable, CustomStringConvertible {
    /// The errno value libzmq reported.
    public let code: Int32
    /// The libzmq function (and, where useful, its argument) that failed.
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// libzmq's description of `code` (`zmq_strerror`).
    public var message: String { String(cString: zmq_strerror(code)) }

    public var description: String { "\(operation): \(message) (errno \(code))" }

    /// A non-blocking send or receive could not proceed (EAGAIN): a full queue or no message.
    public var isWouldBlock: Bool { code == EAGAIN }
    /// A ROUTER socket with `ZMQ_ROUTER_MANDATORY` was asked to send to an unknown peer.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }
    /// The context was terminated while the call was in progress.
    public var isTerminated: Bool { code == ETERM }
    /// A signal interrupted the call (EINTR); `ZMQCall` retries these where it is safe.
    public var isInterrupted: Bool { code == EINTR }

    /// The error that libzmq's thread-local errno describes right now.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(code: zmq_errno(), operation: operation)
    }
}

/// A malformed endpoint or option value, caught before libzmq sees it.
public struct MessagingUsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
