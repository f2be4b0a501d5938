/// Delays between reconnect attempts: doubling from `initial` up to `maximum`, with up to
/// 20% random jitter so that a cluster of workers does not reconnect in lock step.
public struct ExponentialBackoff: Sendable {
    public let initialMilliseconds: Int64
    public let maximumMilliseconds: Int64
    public private(set) var attempt = 0

    public init(initialMilliseconds: Int64 = 100, maximumMilliseconds: Int64 = 5_000) {
        precondition(initialMilliseconds > 0 && maximumMilliseconds >= initialMilliseconds)
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The delay before the next attempt; each call doubles the base until the maximum.
    public mutating func nextDelay<G: RandomNumberGenerator>(using generator: inout G) -> Int64 {
        let exponent = min(attempt, 30)
        attempt += 1
        let base = min(maximumMilliseconds, initialMilliseconds << Int64(exponent))
        let jitter = Int64.random(in: 0...(base / 5), using: &generator)
        return min(maximumMilliseconds, base - base / 10 + jitter)
    }

    public mutating func nextDelay() -> Int64 {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Back to the initial delay, after a success.
    public mutating func reset() { attempt = 0 }
}
