/// Lease round trips of a job, kept as counts in logarithmic buckets (128 per doubling,
/// so a percentile is within 0.6% of the exact one) instead of as every sample: constant
/// memory however many tasks a job has, and percentiles without sorting millions of values
/// in the coordinator's loop when the job ends.
struct LatencyHistogram {
    private static let subBuckets = 128
    /// Bucket i < 128 holds exactly i µs; above, each doubling from 2^k µs has 128 buckets.
    private var counts = [UInt64](repeating: 0, count: subBuckets * 34)
    private(set) var total: UInt64 = 0

    mutating func record(microseconds: Int64) {
        counts[Self.bucket(of: max(0, microseconds))] += 1
        total += 1
    }

    /// The `fraction` percentile (0...1), as the lower edge of its bucket; nil when empty.
    func percentile(_ fraction: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = UInt64((Double(total - 1) * fraction).rounded(.down)) + 1
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return Double(Self.lowerEdge(of: index)) }
        }
        return Double(Self.lowerEdge(of: counts.count - 1))
    }

    static func bucket(of value: Int64) -> Int {
        guard value >= Int64(subBuckets) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // value in [2^exponent, 2^(exponent+1))
        let shift = exponent - 7  // 2^7 = 128 sub-buckets per doubling
        let sub = Int(value >> Int64(shift)) - subBuckets
        return min(subBuckets * (shift + 1) + sub, subBuckets * 34 - 1)
    }

    static func lowerEdge(of bucket: Int) -> Int64 {
        guard bucket >= subBuckets else { return Int64(bucket) }
        let shift = bucket / subBuckets - 1
        return Int64(subBuckets + bucket % subBuckets) << Int64(shift)
    }
}
