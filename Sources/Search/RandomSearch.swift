import Tensor

/// `count` distinct candidates drawn by a seeded sampler, at full budget. Duplicates are
/// drawn again (up to a bound), so a small space is not evaluated twice.
public struct RandomSearch<Candidate: Hashable & Sendable>: SearchStrategy {
    public typealias Sample = @Sendable (inout SplitMix64) -> Candidate

    let sample: Sample
    let count: Int
    let budget: Int
    var generator: SplitMix64
    var seen: Set<Candidate> = []
    var issued = 0
    var pending = 0
    var exhausted = false

    public init(count: Int, budget: Int, seed: UInt64, sample: @escaping Sample) {
        self.count = count
        self.budget = budget
        self.sample = sample
        generator = SplitMix64(seed: seed)
    }

    public mutating func ask() -> Trial<Candidate>? {
        guard issued < count, !exhausted else { return nil }
        for _ in 0..<1000 {
            let candidate = sample(&generator)
            if seen.insert(candidate).inserted {
                issued += 1
                pending += 1
                return Trial(candidate: candidate, budget: budget)
            }
        }
        exhausted = true  // the space is smaller than `count`
        return nil
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) { pending -= 1 }

    public var isFinished: Bool { (issued == count || exhausted) && pending == 0 }
}
