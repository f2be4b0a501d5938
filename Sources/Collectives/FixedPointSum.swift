/// A sum of float vectors (gradients) in fixed point (32 fractional bits in an Int64):
/// integer addition is associative, so the sum has the same bits whatever order its terms
/// arrive in, and with `Communicator.allReduceExact` whichever workers computed them.
/// (Here with the collectives because it is a numeric loop over every parameter, several
/// times a step: this target is optimized even in debug builds.)
///
/// A term is rounded to 2⁻³² (2.3e-10) and clamped to ±2²² (about 4 million) per value; a
/// NaN adds nothing. Float32 gradients carry about 7 significant digits, so for the
/// gradients a classifier sees the rounding is below float32's own.
public struct FixedPointSum {
    public private(set) var values: [Int64]
    static let scale = 4_294_967_296.0  // 2³²
    /// ±2⁵⁴ after scaling: even 256 shards' worth stays within the exact all-reduce's ±2⁶².
    static let limit = 18_014_398_509_481_984.0

    public init(count: Int) { values = [Int64](repeating: 0, count: count) }

    public mutating func add(_ gradients: [Float]) {
        precondition(gradients.count == values.count)
        for index in values.indices {
            let scaled = (Double(gradients[index]) * Self.scale).rounded()
            guard !scaled.isNaN else { continue }
            values[index] &+= Int64(max(-Self.limit, min(Self.limit, scaled)))
        }
    }

    /// Sums every member's `values` in place, exactly (see `allReduceExact`).
    public mutating func allReduce(_ communicator: Communicator) throws(CollectiveError) {
        try communicator.allReduceExact(&values)
    }

    public func floats() -> [Float] { values.map { Float(Double($0) / Self.scale) } }
}
