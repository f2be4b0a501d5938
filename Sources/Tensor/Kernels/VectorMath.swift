/// exp and erf on eight float lanes at once, for the elementwise kernels (GELU, softmax,
/// sigmoid, tanh) that would otherwise call libm one element at a time.
///
/// exp: x = k·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln2 split in two so r is exact), e^r
/// by its degree-6 Taylor polynomial (relative error < 2e-7 there), times 2^k built from
/// the exponent bits. erf: a rational minimax approximation x·P(x²)/Q(x²) on [−4, 4]
/// (the coefficients Eigen uses; absolute error ≤ 4.2e-7 against libm in float32), with no
/// exp. Both are deterministic, so seeded runs stay bit-identical.
enum VectorMath {
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        // Clamped with masks: Swift's generic pointwiseMin/Max are not inlined into this loop.
        let clamped = x.replacing(with: 88.7, where: x .> 88.7).replacing(with: -87.3, where: x .< -87.3)
        // Adding 1.5·2²³ rounds x·log₂e to the nearest integer k and leaves k in the low
        // mantissa bits, which avoids a float → integer conversion that Swift scalarizes.
        let magic = Lanes(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let k = shifted - magic
        let r = clamped - k * 0.693_145_75 - k * 1.428_606_8e-6
        var p = Lanes(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let kBits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- unsafeBitCast(magic, to: SIMD8<UInt32>.self)
        let exponent = (kBits &+ 127) &<< 23
        // Below the float range e^x is 0: masked attention scores (−∞) must get no weight at all.
        return (p * unsafeBitCast(exponent, to: Lanes.self)).replacing(with: 0, where: x .< -87.3)
    }

    @inline(__always)
    static func erf(_ x: Lanes) -> Lanes {
        // erf(x) = x·P(x²)/Q(x²) on [−4, 4] (outside it erf is ±1 in float): a rational
        // minimax fit, no exp, one division.
        let c = x.replacing(with: 4, where: x .> 4).replacing(with: -4, where: x .< -4)
        let x2 = c * c
        var p = Lanes(repeating: -2.726_142_258_013_06e-10)
        p = p * x2 + 2.770_681_424_959_02e-08
        p = p * x2 - 2.101_024_020_825_08e-06
        p = p * x2 - 5.692_506_394_623_46e-05
        p = p * x2 - 7.349_906_303_268_55e-04
        p = p * x2 - 2.954_599_808_540_25e-03
        p = p * x2 - 1.609_603_332_624_15e-02
        var q = Lanes(repeating: -1.456_607_184_649_96e-05)
        q = q * x2 - 2.133_740_552_789_05e-04
        q = q * x2 - 1.682_826_974_382_03e-03
        q = q * x2 - 7.373_329_167_204_68e-03
        q = q * x2 - 1.426_473_905_141_89e-02
        return c * p / q
    }

    /// Applies `f` to `n` floats eight at a time, and to the tail padded into one vector.
    @inline(__always)
    static func map(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Lanes) -> Lanes) {
        var i = 0
        while i + 8 <= n {
            let value = f(UnsafeRawPointer(source + i).loadUnaligned(as: Lanes.self))
            UnsafeMutableRawPointer(target + i).storeBytes(of: value, as: Lanes.self)
            i += 8
        }
        guard i < n else { return }
        var tail = Lanes(repeating: 0)
        for j in 0..<(n - i) { tail[j] = source[i + j] }
        let value = f(tail)
        for j in 0..<(n - i) { target[i + j] = value[j] }
    }
}
