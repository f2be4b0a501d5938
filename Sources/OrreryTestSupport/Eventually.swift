import Glibc
import Runtime

/// Polls `condition` until it holds or `timeoutMilliseconds` pass; returns whether it held.
/// For waiting on other processes, never for asserting speed.
public func eventually(timeoutMilliseconds: Int = 15_000, every intervalMilliseconds: Int = 50, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = MonotonicClock.milliseconds + Int64(timeoutMilliseconds)
    while true {
        if try condition() { return true }
        if MonotonicClock.milliseconds >= deadline { return false }
        usleep(UInt32(intervalMilliseconds) * 1000)
    }
}
