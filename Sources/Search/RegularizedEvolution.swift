import Tensor

/// Regularized (aging) evolution (Real et al. 2019), the steady-state evolutionary search
/// used for architectures and prompts: a population of the last `populationSize` scored
/// candidates; each new candidate is a mutation of the best of `tournamentSize` members
/// drawn at random, or, with probability `crossoverRate`, the crossover of two such winners.
/// The oldest member dies when a new one is told, which keeps the search from settling on
/// one lucky score.
///
/// Steady state suits a cluster: `ask` proposes a new candidate whenever one is wanted,
/// while others are still being scored, and never proposes one already tried (it mutates
/// again, and falls back to a fresh sample). Until `populationSize` candidates have been
/// proposed, candidates are fresh samples.
public struct RegularizedEvolution<Candidate: Hashable & Sendable>: SearchStrategy {
    public typealias Sample = @Sendable (inout SplitMix64) -> Candidate
    public typealias Mutate = @Sendable (Candidate, inout SplitMix64) -> Candidate
    public typealias Crossover = @Sendable (Candidate, Candidate, inout SplitMix64) -> Candidate

    public let populationSize: Int
    public let tournamentSize: Int
    public let crossoverRate: Double
    public let count: Int
    public let budget: Int
    let sample: Sample
    let mutate: Mutate
    let crossover: Crossover?
    var generator: SplitMix64
    /// Scored members, oldest first.
    public private(set) var population: [(candidate: Candidate, score: Double)] = []
    /// Candidates to try first (e.g. the baseline prompt), before any sample.
    var seeds: [Candidate]
    var tried: Set<Candidate> = []
    var pending = 0
    var stalled = false

    public init(
        count: Int, budget: Int, populationSize: Int, tournamentSize: Int = 3, crossoverRate: Double = 0.0, seed: UInt64,
        initial: [Candidate] = [], sample: @escaping Sample, mutate: @escaping Mutate, crossover: Crossover? = nil
    ) {
        precondition(populationSize >= 1 && tournamentSize >= 1 && count >= 0)
        self.count = count
        self.budget = budget
        self.populationSize = populationSize
        self.tournamentSize = tournamentSize
        self.crossoverRate = crossover == nil ? 0 : crossoverRate
        self.sample = sample
        self.mutate = mutate
        self.crossover = crossover
        generator = SplitMix64(seed: seed)
        seeds = initial
    }

    public mutating func ask() -> Trial<Candidate>? {
        guard tried.count < count, !stalled else { return nil }
        while let seed = seeds.first {
            seeds.removeFirst()
            if tried.insert(seed).inserted { return issue(seed) }
        }
        for _ in 0..<200 {
            let candidate = tried.count < populationSize || population.isEmpty ? sample(&generator) : child()
            if tried.insert(candidate).inserted { return issue(candidate) }
        }
        for _ in 0..<200 {
            let candidate = sample(&generator)
            if tried.insert(candidate).inserted { return issue(candidate) }
        }
        stalled = true  // the space is (nearly) exhausted
        return nil
    }

    private mutating func issue(_ candidate: Candidate) -> Trial<Candidate> {
        pending += 1
        return Trial(candidate: candidate, budget: budget)
    }

    private mutating func child() -> Candidate {
        let parent = tournamentWinner()
        if let crossover, generator.nextUnit() < crossoverRate {
            return mutate(crossover(parent, tournamentWinner(), &generator), &generator)
        }
        return mutate(parent, &generator)
    }

    private mutating func tournamentWinner() -> Candidate {
        var best: (candidate: Candidate, score: Double)?
        for _ in 0..<tournamentSize {
            let member = population[Int(generator.next() % UInt64(population.count))]
            if best == nil || member.score > best!.score { best = member }
        }
        return best!.candidate
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) {
        pending -= 1
        population.append((trial.candidate, score))
        if population.count > populationSize { population.removeFirst() }
    }

    public var isFinished: Bool { (tried.count >= count || stalled) && pending == 0 }

    /// Puts `candidate` in line before any new sample or child (if it was never tried): a
    /// child made outside the strategy, such as a language model's rewrite of the best
    /// prompt's instruction. Suggestions are tried in the order given.
    public mutating func suggest(_ candidate: Candidate) {
        guard !tried.contains(candidate), !seeds.contains(candidate) else { return }
        seeds.append(candidate)
    }
}
