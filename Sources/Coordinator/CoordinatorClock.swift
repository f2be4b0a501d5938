import Runtime

/// Where the coordinator core reads the time: the monotonic clock in the daemon, a clock a
/// test moves by hand in `CoordinatorCoreTests` (silence, deadlines and re-attach windows
/// are then checked without waiting).
public struct CoordinatorClock: Sendable {
    public let milliseconds: @Sendable () -> Int64
    public let microseconds: @Sendable () -> Int64

    public init(milliseconds: @escaping @Sendable () -> Int64, microseconds: @escaping @Sendable () -> Int64) {
        self.milliseconds = milliseconds
        self.microseconds = microseconds
    }

    public static let system = CoordinatorClock(
        milliseconds: { MonotonicClock.milliseconds }, microseconds: { MonotonicClock.microseconds })
}
