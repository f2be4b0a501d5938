/// Every candidate of a finite list, once, at full budget, in the list's order.
public struct ExhaustiveSearch<Candidate: Hashable & Sendable>: SearchStrategy {
    let candidates: [Candidate]
    let budget: Int
    var next = 0
    var pending = 0

    public init(candidates: [Candidate], budget: Int) {
        var seen = Set<Candidate>()
        self.candidates = candidates.filter { seen.insert($0).inserted }
        self.budget = budget
    }

    public mutating func ask() -> Trial<Candidate>? {
        guard next < candidates.count else { return nil }
        defer { next += 1 }
        pending += 1
        return Trial(candidate: candidates[next], budget: budget)
    }

    public mutating func tell(_ trial: Trial<Candidate>, score: Double) { pending -= 1 }

    public var isFinished: Bool { next == candidates.count && pending == 0 }
}
