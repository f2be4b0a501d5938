/// A `TokenBucket` per client peer.
///
/// Peers are routing ids, which anyone can mint, so the table is bounded: when it is full,
/// buckets idle long enough to have refilled are dropped (they would be full again anyway),
/// and a peer that still finds no room shares one bucket with every other newcomer.
struct RequestRateLimiter {
    let burst: Int
    let perSecond: Double
    let maximumPeers: Int
    private var buckets: [[UInt8]: TokenBucket] = [:]
    private static let overflowKey: [UInt8] = []
    private var lastSweep = Int64.min / 2

    init(burst: Int, perSecond: Double, maximumPeers: Int = 4096) {
        self.burst = burst
        self.perSecond = perSecond
        self.maximumPeers = maximumPeers
    }

    /// Takes a token for `peer`; false when it has none left.
    mutating func allow(_ peer: [UInt8], now: Int64) -> Bool {
        var key = peer
        if buckets[key] == nil && buckets.count >= maximumPeers {
            let refill = TokenBucket(burst: burst, perSecond: perSecond, now: now).refillMilliseconds
            if now - lastSweep >= refill {  // at most once per refill time, not per request
                lastSweep = now
                buckets = buckets.filter { now - $0.value.updated < refill }
            }
            if buckets.count >= maximumPeers { key = Self.overflowKey }
        }
        var bucket = buckets[key] ?? TokenBucket(burst: burst, perSecond: perSecond, now: now)
        let allowed = bucket.take(now: now)
        buckets[key] = bucket
        return allowed
    }
}
