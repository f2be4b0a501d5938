/// All-reduce of 64-bit integers whose sum is exact: the same bits whatever the number of
/// members and whatever order the algorithm adds them in. Data-parallel training sums
/// fixed-point gradients through it, so that a global batch's gradient does not depend on
/// how many workers share it.
///
/// The collectives move float32. Each integer is split into four 16-bit limbs (the low three
/// unsigned, the top one signed), each carried as a float32; a float32 holds every integer
/// below 2²⁴ exactly, so summing up to `maximumMembers` limbs is exact in any order, and the
/// integer is put back together from the summed limbs. It costs four floats per value.
extension Communicator {
    /// Members for which the limb sums stay exact: 256 × 65,535 < 2²⁴.
    public static let maximumExactMembers = 256

    /// Sums `values` across the ring in place, exactly. Each value, and the sum of any
    /// members' values, must stay within ±2⁶² (callers scale their numbers to fit).
    public func allReduceExact(_ values: inout [Int64]) throws(CollectiveError) {
        guard worldSize > 1, !values.isEmpty else { return }
        guard worldSize <= Self.maximumExactMembers else {
            throw CollectiveError(
                .protocolViolation("an exact all-reduce takes at most \(Self.maximumExactMembers) members, this ring has \(worldSize)"),
                rank: rank, operation: "exact all-reduce")
        }
        var limbs = IntegerLimbs.split(values)
        // In pieces, so that no single call asks the data path for an unbounded buffer.
        let piece = 1 << 20
        try limbs.withUnsafeMutableBufferPointer { (all) throws(CollectiveError) in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + piece)
                try allReduce(UnsafeMutableBufferPointer(rebasing: all[start..<end]), .sum)
                start = end
            }
        }
        IntegerLimbs.combine(limbs, into: &values)
    }
}

/// 64-bit integers as four float32 limbs of 16 bits each (value-major: four floats per
/// value), and back.
public enum IntegerLimbs {
    public static func split(_ values: [Int64]) -> [Float] {
        var limbs = [Float](repeating: 0, count: values.count * 4)
        for (index, value) in values.enumerated() {
            limbs[4 * index] = Float(value & 0xFFFF)
            limbs[4 * index + 1] = Float((value >> 16) & 0xFFFF)
            limbs[4 * index + 2] = Float((value >> 32) & 0xFFFF)
            limbs[4 * index + 3] = Float(value >> 48)  // signed: -2¹⁴ ..< 2¹⁴ within ±2⁶²
        }
        return limbs
    }

    /// Puts summed limbs back together; the arithmetic wraps, so a sum within ±2⁶³ is exact.
    public static func combine(_ limbs: [Float], into values: inout [Int64]) {
        for index in values.indices {
            let base = 4 * index
            values[index] = Int64(limbs[base]) &+ (Int64(limbs[base + 1]) &<< 16) &+ (Int64(limbs[base + 2]) &<< 32)
                &+ (Int64(limbs[base + 3]) &<< 48)
        }
    }
}
