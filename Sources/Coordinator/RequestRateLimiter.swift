/// A token bucket per client peer: `burst` requests at once, refilled at `perSecond`.
///
/// Peers are routing ids, which anyone can mint, so the table is bounded: when it is full,
/// buckets idle long enough to have refilled are dropped (they would be full again anyway),
/// and a peer that still finds no room shares one bucket with every other newcomer.
struct RequestRateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    let burst: Double
    let perSecond: Double
    let maximumPeers: Int
    private var buckets: [[UInt8]: Bucket] = [:]
    private static let overflowKey: [UInt8] = []
    private var lastSweep = Int64.min / 2

    init(burst: Int, perSecond: Double, maximumPeers: Int = 4096) {
        self.burst = Double(max(1, burst))
        self.perSecond = max(0.001, perSecond)
        self.maximumPeers = maximumPeers
    }

    /// Takes a token for `peer`; false when it has none left.
    mutating func allow(_ peer: [UInt8], now: Int64) -> Bool {
        var key = peer
        if buckets[key] == nil && buckets.count >= maximumPeers {
            let refill = Int64(burst / perSecond * 1000)
            if now - lastSweep >= refill {  // at most once per refill time, not per request
                lastSweep = now
                buckets = buckets.filter { now - $0.value.updated < refill }
            }
            if buckets.count >= maximumPeers { key = Self.overflowKey }
        }
        var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
        bucket.tokens = min(burst, bucket.tokens + Double(max(0, now - bucket.updated)) / 1000 * perSecond)
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[key] = bucket
        return allowed
    }
}
