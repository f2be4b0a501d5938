import Tensor

/// Example indices in batches: shuffled per epoch from a seed (the same order on every
/// machine), and optionally one shard of them for data-parallel rank `rank` of `worldSize`.
///
/// Sharding takes every `worldSize`-th index of the epoch's permutation starting at `rank`,
/// so the shards are disjoint and together cover the epoch; each rank's batch is the
/// matching slice of the global batch.
public struct BatchSampler: Sequence {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let epoch: Int
    public let rank: Int
    public let worldSize: Int
    public let dropLast: Bool

    public init(
        count: Int, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, epoch: Int = 0, rank: Int = 0, worldSize: Int = 1,
        dropLast: Bool = false
    ) {
        precondition(batchSize > 0 && worldSize > 0 && (0..<worldSize).contains(rank))
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = epoch
        self.rank = rank
        self.worldSize = worldSize
        self.dropLast = dropLast
    }

    /// This epoch's order of all examples (before sharding).
    public var permutation: [Int] {
        var order = Array(0..<count)
        guard shuffle else { return order }
        var generator = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return order
    }

    public func makeIterator() -> IndexingIterator<[[Int]]> {
        let order = permutation
        let mine = stride(from: rank, to: count, by: worldSize).map { order[$0] }
        var batches: [[Int]] = []
        var start = 0
        while start < mine.count {
            let end = Swift.min(mine.count, start + batchSize)
            if end - start == batchSize || !dropLast { batches.append(Array(mine[start..<end])) }
            start = end
        }
        return batches.makeIterator()
    }
}
