import CZeroMQ

/// The one place where libzmq return codes become Swift errors.
///
/// `retryingOnInterrupt` retries a call that a signal interrupted (EINTR), which is only
/// safe for calls that have no effect when they fail: bind, connect, option calls, polling
/// with an absolute deadline is handled by `Poller` itself.
enum ZMQCall {
    /// Runs `body`; a negative result becomes a `ZMQError` naming `operation`.
    @discardableResult
    static func check(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
        let rc = body()
        if rc < 0 { throw ZMQError.last(operation()) }
        return rc
    }

    /// Like `check`, but a call interrupted by a signal is made again.
    @discardableResult
    static func retryingOnInterrupt(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
        while true {
            let rc = body()
            if rc >= 0 { return rc }
            let error = ZMQError.last(operation())
            if error.isInterrupted { continue }
            throw error
        }
    }
}
