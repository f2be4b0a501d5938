import Tensor

/// Hyperband (Li et al., JMLR 2018) run asynchronously, as brackets of ASHA: bracket s
/// starts its candidates at budget r·ηˢ, so bracket 0 explores many cheap trials and the
/// last trains few candidates at full budget, hedging against a space where early results
/// mislead. The total budget is shared equally between brackets; `ask` goes round the
/// brackets, so each gets its turn whatever the others are waiting for.
public struct Hyperband<Candidate: Hashable & Sendable>: SearchStrategy {
    public private(set) var brackets: [AsynchronousHalving<Candidate>]
    /// Which bracket each started candidate belongs to (a candidate is in one only).
    var bracketOf: [Candidate: Int] = [:]
    var turn = 0

    public init(
        minimumBudget: Int, maximumBudget: Int, reduction: Int, totalBudget: Int, seed: UInt64,
        sample: @escaping AsynchronousHalving<Candidate>.Sample
    ) {
        let rungs = AsynchronousHalving<Candidate>.rungBudgets(minimum: minimumBudget, maximum: maximumBudget, reduction: reduction)
        let share = totalBudget / rungs.count
        brackets = rungs.indices.map { s in
            AsynchronousHalving(
                minimumBudget: rungs[s], maximumBudget: maximumBudget, reduction: reduction, totalBudget: share,
                seed: seed &+ UInt64(s) &* 0x9E37_79B9, sample: sample)
        }
    }

    public mutating func ask() -> Trial<Candidate>? {
        for offset in 0..<brackets.count {
            let index = (turn + offset) % brackets.count
            guard let trial = brackets[index].ask() else { continue }
            turn = (index + 1) % brackets.count
            if trial.rung == 0 {
                bracketOf[trial.candidate] = index
                for other in brackets.indices where other != index { brackets[other].exclude(trial.candidate) }
            }
            return trial
        }
        return nil
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) {
        guard let index = bracketOf[trial.candidate] else { return }
        brackets[index].tell(trial, score: score)
    }

    public var isFinished: Bool { brackets.allSatisfy(\.isFinished) }

    public var spent: Int { brackets.reduce(0) { $0 + $1.spent } }
}
