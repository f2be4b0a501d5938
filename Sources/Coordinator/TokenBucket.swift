/// `burst` tokens at once, refilled at `perSecond`: a rate limit for one stream of events.
struct TokenBucket {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    /// When the bucket was last used (monotonic milliseconds).
    private(set) var updated: Int64

    init(burst: Int, perSecond: Double, now: Int64) {
        self.burst = Double(max(1, burst))
        self.perSecond = max(0.001, perSecond)
        tokens = self.burst
        updated = now
    }

    /// Milliseconds an unused bucket takes to fill up again.
    var refillMilliseconds: Int64 { Int64(burst / perSecond * 1000) }

    /// Takes a token; false when none is left.
    mutating func take(now: Int64) -> Bool {
        tokens = min(burst, tokens + Double(max(0, now - updated)) / 1000 * perSecond)
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
