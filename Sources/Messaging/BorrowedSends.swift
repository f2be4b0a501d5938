import CZeroMQ
import Glibc
import Runtime
import Synchronization

/// Sends whose payload libzmq reads straight from the caller's memory instead of a copy of
/// it (`Socket.send(header:borrowing:tracker:)`), counted until libzmq releases them.
///
/// libzmq writes such a payload to the socket from where it lies and calls back, on its I/O
/// thread, once it is done with it; until then the memory must neither change nor go away.
/// A collective keeps one tracker per region of its buffer and waits on a region's tracker
/// before writing into it, and on all of them before it returns the buffer to its caller.
public final class BorrowedSends: @unchecked Sendable {
    private let outstanding = Atomic<Int>(0)

    public init() {}

    /// Payloads libzmq still holds.
    public var pending: Int { outstanding.load(ordering: .acquiring) }

    /// Waits until libzmq has released every payload sent through this tracker, or until
    /// `deadline` (`MonotonicClock.milliseconds`); true when all were released.
    public func waitUntilReleased(deadline: Int64) -> Bool {
        var spins = 0
        while pending > 0 {
            if MonotonicClock.milliseconds >= deadline { return false }
            spins += 1
            if spins < 64 { sched_yield() } else { usleep(50) }
        }
        return true
    }

    fileprivate func began() { outstanding.wrappingAdd(1, ordering: .relaxed) }
    fileprivate func released() { outstanding.wrappingSubtract(1, ordering: .releasing) }

    /// libzmq's free function for borrowed payloads: the hint is the retained tracker.
    fileprivate static let release: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
        guard let hint else { return }
        Unmanaged<BorrowedSends>.fromOpaque(hint).takeRetainedValue().released()
    }
}

extension Socket {
    /// Sends a small header frame (copied) and a payload frame that libzmq reads from
    /// `payload` where it lies: one copy fewer for large tensors. `tracker` counts the
    /// payload until libzmq is done with it; the memory must not change before then.
    public func send(header: UnsafeRawBufferPointer, borrowing payload: UnsafeRawBufferPointer, tracker: BorrowedSends, wait: Bool = false)
        throws(ZMQError)
    {
        let flags = wait ? Int32(0) : ZMQ_DONTWAIT
        try ZMQCall.retryingOnInterrupt("zmq_send") { zmq_send(handle, header.baseAddress, header.count, flags | ZMQ_SNDMORE) }
        var message = zmq_msg_t()
        tracker.began()
        let hint = Unmanaged.passRetained(tracker).toOpaque()
        let data = UnsafeMutableRawPointer(mutating: payload.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
        guard zmq_msg_init_data(&message, data, payload.count, BorrowedSends.release, hint) == 0 else {
            Unmanaged<BorrowedSends>.fromOpaque(hint).takeRetainedValue().released()
            throw ZMQError.last("zmq_msg_init_data")
        }
        while zmq_msg_send(&message, handle, flags) < 0 {
            let error = ZMQError.last("zmq_msg_send")
            if error.isInterrupted { continue }
            zmq_msg_close(&message)  // calls the free function: released
            throw error
        }
    }
}
