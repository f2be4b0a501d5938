import Foundation

extension ZMQContext {
    /// The process's shared context, made on first use and never terminated.
    ///
    /// Daemons use it so that returning from `main` never waits in `zmq_ctx_term` for a task
    /// thread that still holds a socket past its grace period: the process ends, and the
    /// kernel closes what is left.
    public static func forProcess() throws(ZMQError) -> ZMQContext {
        ProcessContext.lock.lock()
        defer { ProcessContext.lock.unlock() }
        if let shared = ProcessContext.shared { return shared }
        let made = try ZMQContext()
        ProcessContext.shared = made
        return made
    }
}

private enum ProcessContext {
    static let lock = NSLock()
    nonisolated(unsafe) static var shared: ZMQContext?
}
