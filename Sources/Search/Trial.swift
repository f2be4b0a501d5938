/// One evaluation a strategy asks for: a candidate, scored with `budget` units of
/// evaluation (examples, epochs…) at rung `rung` of a multi-fidelity schedule. Strategies
/// that evaluate everything at full budget use rung 0.
public struct Trial<Candidate: Hashable & Sendable>: Hashable, Sendable {
    public let candidate: Candidate
    public let budget: Int
    public let rung: Int

    public init(candidate: Candidate, budget: Int, rung: Int = 0) {
        self.candidate = candidate
        self.budget = budget
        self.rung = rung
    }
}

/// A search strategy in ask/tell form, so that a planner can keep many trials in flight on
/// a cluster: `ask` hands out the next trial (nil when nothing can be proposed until some
/// results are told), `tell` reports a finished trial's score (higher is better).
///
/// Strategies are seeded value types: the same seed and the same told scores give the
/// same trials, whatever order the cluster returns them in (within a batch).
public protocol SearchStrategy<Candidate>: Sendable {
    associatedtype Candidate: Hashable & Sendable

    /// The next trial to run, or nil when the strategy must first hear results.
    mutating func ask() -> Trial<Candidate>?

    /// The score of a trial that `ask` handed out.
    mutating func tell(_ trial: Trial<Candidate>, score: Double)

    /// True when the strategy will ask for nothing more.
    var isFinished: Bool { get }

    /// A candidate made outside the strategy that it may try next. Strategies with a fixed
    /// field (exhaustive, halving) ignore it; evolution puts it first in line.
    mutating func suggest(_ candidate: Candidate)
}

extension SearchStrategy {
    public mutating func suggest(_ candidate: Candidate) {}
}

/// Scores told so far, best first, for leaderboards and final choices.
public struct Leaderboard<Candidate: Hashable & Sendable>: Sendable {
    public private(set) var entries: [Candidate: (score: Double, budget: Int)] = [:]
    /// When each candidate was first recorded, to break ties the same way every time
    /// (a dictionary's order changes from process to process).
    private var firstSeen: [Candidate: Int] = [:]

    public init() {}

    /// Keeps, per candidate, the score at the largest budget seen (the most informed one).
    public mutating func record(_ trial: Trial<Candidate>, score: Double) {
        if firstSeen[trial.candidate] == nil { firstSeen[trial.candidate] = firstSeen.count }
        if let existing = entries[trial.candidate], existing.budget > trial.budget { return }
        entries[trial.candidate] = (score, trial.budget)
    }

    /// Candidates by score at their largest budget: larger budgets first, then higher
    /// scores, then the one recorded first.
    public var ranked: [(candidate: Candidate, score: Double, budget: Int)] {
        entries.map { ($0.key, $0.value.score, $0.value.budget) }.sorted {
            if $0.budget != $1.budget { return $0.budget > $1.budget }
            if $0.score != $1.score { return $0.score > $1.score }
            return firstSeen[$0.candidate]! < firstSeen[$1.candidate]!
        }
    }
}
