/// Successive halving (Jamieson & Talwalkar 2016; Karnin et al. 2013): every candidate is
/// scored on a small budget; the better 1/η are kept and scored on η times the budget, and
/// so on until one is left or the budget reaches its maximum.
///
/// With budgets counted in evaluation examples, a prompt seen on 16 examples and dropped
/// costs 16, not the full dev set: most of the evaluations go to the few candidates that
/// keep winning. A rung's survivors are chosen only when all of its scores are in, so `ask`
/// returns nil while a rung is still being scored. Ties keep the earlier candidate, so the
/// result does not depend on the order in which scores arrive.
public struct SuccessiveHalving<Candidate: Hashable & Sendable>: SearchStrategy {
    public let minimumBudget: Int
    public let maximumBudget: Int
    public let reduction: Int
    var rung = 0
    var survivors: [Candidate]
    var next = 0
    var scores: [Candidate: Double] = [:]
    public private(set) var finished = false

    /// - Parameters:
    ///   - candidates: the field, in a fixed order (duplicates removed).
    ///   - minimumBudget: rung 0's budget; rung r gets minimumBudget · reductionʳ, capped at
    ///     `maximumBudget`.
    ///   - reduction: η, the factor by which the field shrinks and the budget grows (≥ 2).
    public init(candidates: [Candidate], minimumBudget: Int, maximumBudget: Int, reduction: Int = 2) {
        precondition(minimumBudget > 0 && maximumBudget >= minimumBudget && reduction >= 2)
        var seen = Set<Candidate>()
        survivors = candidates.filter { seen.insert($0).inserted }
        self.minimumBudget = minimumBudget
        self.maximumBudget = maximumBudget
        self.reduction = reduction
        finished = survivors.isEmpty
    }

    public var budget: Int {
        var value = minimumBudget
        for _ in 0..<rung { value = Swift.min(maximumBudget, value * reduction) }
        return value
    }

    public mutating func ask() -> Trial<Candidate>? {
        guard !finished, next < survivors.count else { return nil }
        defer { next += 1 }
        return Trial(candidate: survivors[next], budget: budget, rung: rung)
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) {
        guard trial.rung == rung, survivors.contains(trial.candidate) else { return }
        scores[trial.candidate] = score
        guard scores.count == survivors.count else { return }
        // The rung is complete: the last rung is the one at full budget or with one left.
        if survivors.count == 1 || budget == maximumBudget {
            finished = true
            return
        }
        let keep = Swift.max(1, (survivors.count + reduction - 1) / reduction)
        let order = survivors.enumerated().sorted { a, b in
            let (sa, sb) = (scores[a.element]!, scores[b.element]!)
            return sa != sb ? sa > sb : a.offset < b.offset
        }
        survivors = order.prefix(keep).map(\.element)
        // One left: it has won, and scoring it again would decide nothing.
        if keep == 1 {
            finished = true
            return
        }
        scores = [:]
        next = 0
        rung += 1
    }

    public var isFinished: Bool { finished }

    /// The candidates still in the race (the winner alone, once finished with one left).
    public var field: [Candidate] { survivors }
}
