import Tensor

/// ASHA, asynchronous successive halving (Li et al., "A System for Massively Parallel
/// Hyperparameter Tuning", MLSys 2020): rungs at budgets r, rη, rη², … up to R. Whenever a
/// worker is free, the top 1/η of a rung's results so far (highest rung first) that have
/// not moved up yet are promoted to the next rung; when none can be, a new candidate starts
/// at rung 0. No rung ever waits to be complete, so no worker waits for a straggler.
///
/// A promoted trial's budget is the rung's total (a candidate promoted from 1 to 3 epochs
/// is asked for 3); the caller continues it from its checkpoint, so a promotion costs only
/// the difference, which is what `spent` counts. The search stops asking once a new step
/// would take `spent` past `totalBudget`.
///
/// Promotions depend on which results have arrived, so with several trials in flight the
/// order the cluster returns them in matters (as in every asynchronous scheduler); the same
/// order of `tell`s gives the same trials.
public struct AsynchronousHalving<Candidate: Hashable & Sendable>: SearchStrategy {
    public typealias Sample = @Sendable (inout SplitMix64) -> Candidate

    public let budgets: [Int]
    public let reduction: Int
    public let totalBudget: Int
    let sample: Sample
    var generator: SplitMix64
    /// Results per rung in the order they were told, for ranking (ties: the earlier told).
    public private(set) var rungs: [[(candidate: Candidate, score: Double)]]
    /// Candidates already promoted out of each rung.
    var promoted: [Set<Candidate>]
    /// Every candidate ever started (here, or in a sibling bracket via `exclude`).
    var seen: Set<Candidate> = []
    public private(set) var spent = 0
    var pending = 0
    var exhausted = false

    /// - Parameters:
    ///   - minimumBudget: r, rung 0's budget.
    ///   - maximumBudget: R, the top rung's budget (rungs r·ηᵏ below it, then R itself).
    ///   - reduction: η ≥ 2.
    ///   - totalBudget: the most budget units spent over all trials.
    public init(minimumBudget: Int, maximumBudget: Int, reduction: Int, totalBudget: Int, seed: UInt64, sample: @escaping Sample) {
        precondition(minimumBudget >= 1 && maximumBudget >= minimumBudget && reduction >= 2)
        budgets = Self.rungBudgets(minimum: minimumBudget, maximum: maximumBudget, reduction: reduction)
        self.reduction = reduction
        self.totalBudget = totalBudget
        self.sample = sample
        generator = SplitMix64(seed: seed)
        rungs = Array(repeating: [], count: budgets.count)
        promoted = Array(repeating: [], count: budgets.count)
    }

    /// r, rη, rη², … while below R, then R.
    public static func rungBudgets(minimum: Int, maximum: Int, reduction: Int) -> [Int] {
        var budgets: [Int] = []
        var budget = minimum
        while budget < maximum {
            budgets.append(budget)
            budget *= reduction
        }
        budgets.append(maximum)
        return budgets
    }

    public mutating func ask() -> Trial<Candidate>? {
        if let trial = promotion() { return trial }
        guard !exhausted, spent + budgets[0] <= totalBudget else { return nil }
        for _ in 0..<1000 {
            let candidate = sample(&generator)
            if seen.insert(candidate).inserted {
                spent += budgets[0]
                pending += 1
                return Trial(candidate: candidate, budget: budgets[0], rung: 0)
            }
        }
        exhausted = true
        return nil
    }

    /// The best candidate of the highest rung that may move up: among the top ⌊n/η⌋ of
    /// the rung's n results, the first not yet promoted, if its next step fits the budget.
    private mutating func promotion() -> Trial<Candidate>? {
        guard let (rung, candidate) = promotable() else { return nil }
        promoted[rung].insert(candidate)
        spent += budgets[rung + 1] - budgets[rung]
        pending += 1
        return Trial(candidate: candidate, budget: budgets[rung + 1], rung: rung + 1)
    }

    func promotable() -> (rung: Int, candidate: Candidate)? {
        for rung in stride(from: budgets.count - 2, through: 0, by: -1) {
            let results = rungs[rung]
            let top = results.count / reduction
            guard top > 0 else { continue }
            let ranked = results.enumerated().sorted { a, b in
                a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
            }
            let cost = budgets[rung + 1] - budgets[rung]
            for entry in ranked.prefix(top) where !promoted[rung].contains(entry.element.candidate) {
                if spent + cost <= totalBudget { return (rung, entry.element.candidate) }
            }
        }
        return nil
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) {
        pending -= 1
        guard rungs.indices.contains(trial.rung) else { return }
        rungs[trial.rung].append((trial.candidate, score))
    }

    /// Finished when nothing is running and nothing more fits: no promotion and no new start.
    public var isFinished: Bool {
        pending == 0 && promotable() == nil && (exhausted || spent + budgets[0] > totalBudget)
    }

    /// Candidates started elsewhere (a sibling bracket), never to be started here.
    public mutating func exclude(_ candidate: Candidate) { seen.insert(candidate) }
}
