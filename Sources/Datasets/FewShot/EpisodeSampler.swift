import Tensor

/// Draws N-way K-shot episodes from some classes of a pool.
///
/// An episode depends only on the seed and its index, never on who draws it or what was
/// drawn before: episode 17 of seed 3 is the same on one worker or on the third member of a
/// gang, which is what lets a meta-batch be split across workers.
public struct EpisodeSampler: Sendable {
    public let pool: ClassPool
    public let classes: [Int]
    public let ways: Int
    public let shots: Int
    public let queries: Int

    /// - Throws: `DatasetError` when the classes cannot supply such episodes.
    public init(pool: ClassPool, classes: [Int], ways: Int, shots: Int, queries: Int) throws(DatasetError) {
        guard ways >= 2, ways <= classes.count else {
            throw DatasetError(path: "few-shot", "\(ways)-way episodes need at least \(ways) classes; this split has \(classes.count)")
        }
        let smallest = classes.map { pool.classes[$0].count }.min() ?? 0
        guard shots >= 1, queries >= 1, shots + queries <= smallest else {
            throw DatasetError(path: "few-shot",
                "\(shots) shot(s) + \(queries) query(ies) per class need that many examples; the smallest class has \(smallest)")
        }
        self.pool = pool
        self.classes = classes
        self.ways = ways
        self.shots = shots
        self.queries = queries
    }

    /// Episode `index` of `seed`.
    public func episode(seed: UInt64, index: Int) -> Episode {
        var generator = SplitMix64(seed: Self.mix(seed, UInt64(index)))
        var order = classes
        for position in 0..<ways {
            order.swapAt(position, Int.random(in: position..<order.count, using: &generator))
        }
        let drawn = Array(order.prefix(ways))
        let features = pool.features
        var support = [Float](), query = [Float]()
        support.reserveCapacity(ways * shots * features)
        query.reserveCapacity(ways * queries * features)
        for poolClass in drawn {
            let source = pool.classes[poolClass]
            var examples = Array(0..<source.count)
            for position in 0..<(shots + queries) {
                examples.swapAt(position, Int.random(in: position..<examples.count, using: &generator))
            }
            for (position, example) in examples.prefix(shots + queries).enumerated() {
                let row = source.values[(example * features)..<((example + 1) * features)]
                if position < shots { support += row } else { query += row }
            }
        }
        return Episode(
            ways: ways, shots: shots,
            support: Tensor(shape: [ways * shots, features], storage: Storage(support)),
            supportLabels: (0..<ways).flatMap { Array(repeating: $0, count: shots) },
            query: Tensor(shape: [ways * queries, features], storage: Storage(query)),
            queryLabels: (0..<ways).flatMap { Array(repeating: $0, count: queries) },
            classes: drawn)
    }

    /// A well-spread generator seed from two numbers (SplitMix64's own finalizer).
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
