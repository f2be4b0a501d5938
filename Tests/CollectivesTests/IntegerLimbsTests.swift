import Testing

@testable import Collectives

@Suite("Exact integer sums through float limbs")
struct IntegerLimbsTests {
    @Test("limbs summed as floats in any order give the exact integer sum, for up to 256 members")
    func exactInAnyOrder() {
        var generator = SystemRandomNumberGenerator()
        let bound: Int64 = 1 << 62 / 256
        let edges: [Int64] = [0, 1, -1, bound - 1, -bound, 0xFFFF, -0x10000, 1 << 47, -(1 << 47)]
        for members in [1, 2, 3, 7, 256] {
            let count = 64
            let values = (0..<members).map { member in
                (0..<count).map { index in index < edges.count && member % 2 == 0 ? edges[index] : Int64.random(in: -bound..<bound, using: &generator) }
            }
            let expected = (0..<count).map { index in values.reduce(Int64(0)) { $0 + $1[index] } }
            // Sum every member's limbs in two different orders, as float32, as a ring would.
            for order in [Array(0..<members), (0..<members).reversed()] {
                var sum = [Float](repeating: 0, count: count * 4)
                for member in order {
                    for (index, limb) in IntegerLimbs.split(values[member]).enumerated() { sum[index] += limb }
                }
                var combined = [Int64](repeating: 0, count: count)
                IntegerLimbs.combine(sum, into: &combined)
                #expect(combined == expected, "\(members) members")
            }
        }
    }
}
