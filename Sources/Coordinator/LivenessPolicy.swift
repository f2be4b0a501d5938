/// When a silent peer counts as dead: after `misses` heartbeat intervals without a word.
public struct LivenessPolicy: Sendable, Equatable {
    public let intervalMilliseconds: Int
    public let misses: Int

    public init(intervalMilliseconds: Int = 1000, misses: Int = 3) {
        precondition(intervalMilliseconds > 0 && misses > 0)
        self.intervalMilliseconds = intervalMilliseconds
        self.misses = misses
    }

    /// Milliseconds of silence after which a peer is dead.
    public var timeoutMilliseconds: Int64 { Int64(intervalMilliseconds) * Int64(misses) }

    public func isDead(lastHeard: Int64, now: Int64) -> Bool { now - lastHeard > timeoutMilliseconds }
}
