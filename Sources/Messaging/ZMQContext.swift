import CZeroMQ

/// Owns one libzmq context: the I/O threads that every socket made from it shares.
///
/// libzmq contexts are thread-safe, so one context serves a whole process; sockets, which
/// are not thread-safe, each keep a strong reference to the context so that it is
/// terminated only after the last of them has closed.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// - Parameter ioThreads: libzmq background I/O threads. One is enough below about a
    ///   gigabyte per second of traffic; the data plane may ask for more.
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        try ZMQCall.check("zmq_ctx_set(ZMQ_IO_THREADS)") { zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) }
        // Daemons install their own signal handling; libzmq must not block or eat signals.
        try ZMQCall.check("zmq_ctx_set(ZMQ_BLOCKY)") { zmq_ctx_set(handle, ZMQ_BLOCKY, 0) }
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// The libzmq library version, e.g. "4.3.4".
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether this libzmq was built with CURVE security.
    public static var hasCurve: Bool { zmq_has("curve") != 0 }
}
