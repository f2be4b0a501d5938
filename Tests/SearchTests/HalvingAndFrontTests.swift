import Search
import Tensor
import Testing

@Suite("ASHA, Hyperband and Pareto fronts")
struct HalvingAndFrontTests {
    /// Candidates are integers 0, 1, 2, … in sampling order; a candidate's score is itself
    /// plus its budget (so larger numbers are better at every rung).
    static func counter() -> AsynchronousHalving<Int>.Sample {
        { generator in Int(generator.next() % 1_000_000) }
    }

    @Test("rung budgets are r·ηᵏ below R, then R")
    func rungs() {
        #expect(AsynchronousHalving<Int>.rungBudgets(minimum: 1, maximum: 9, reduction: 3) == [1, 3, 9])
        #expect(AsynchronousHalving<Int>.rungBudgets(minimum: 1, maximum: 4, reduction: 3) == [1, 3, 4])
        #expect(AsynchronousHalving<Int>.rungBudgets(minimum: 2, maximum: 2, reduction: 3) == [2])
    }

    @Test("ASHA promotes the top 1/η of a rung as soon as it can, best first, each once; starts new trials otherwise")
    func promotion() {
        var asha = AsynchronousHalving(minimumBudget: 1, maximumBudget: 9, reduction: 3, totalBudget: 1000, seed: 1, sample: Self.counter())
        // Three rung-0 trials: nothing to promote until a rung has η results.
        let first = (0..<3).map { _ in asha.ask()! }
        #expect(first.allSatisfy { $0.rung == 0 && $0.budget == 1 })
        let scores = [0.5, 0.9, 0.7]
        for (trial, score) in zip(first, scores) { asha.tell(trial, score: score) }
        // ⌊3/3⌋ = 1 may move up: the best (0.9).
        let promoted = asha.ask()!
        #expect(promoted.candidate == first[1].candidate && promoted.rung == 1 && promoted.budget == 3)
        // The next ask starts a fresh trial: 0.9 is already promoted and only 1 of 3 may go.
        let fresh = asha.ask()!
        #expect(fresh.rung == 0 && !first.map(\.candidate).contains(fresh.candidate))
        // With 4 results ⌊4/3⌋ = 1 may go up: now the new best, which has not moved yet.
        asha.tell(fresh, score: 0.95)
        let second = asha.ask()!
        #expect(second.candidate == fresh.candidate && second.rung == 1 && second.budget == 3)
        // Nothing else qualifies (the top 1 of 4 is promoted; rung 1 has no results yet).
        let third = asha.ask()!
        #expect(third.rung == 0)
        // Spent: 5 rung-0 epochs + two promotions of 2 epochs each.
        #expect(asha.spent == 5 + 2 + 2)
    }

    @Test("ASHA prefers promotions from higher rungs, and stops within its total budget")
    func budget() {
        var asha = AsynchronousHalving(minimumBudget: 1, maximumBudget: 4, reduction: 2, totalBudget: 40, seed: 2, sample: Self.counter())
        let trials = drive(&asha, inFlight: 2) { candidate, budget in Double(candidate % 97) + Double(budget) / 10 }
        #expect(asha.isFinished && asha.spent <= 40)
        // Every promoted trial was first seen at the rung below.
        var reached: [Int: Int] = [:]
        for trial in trials {
            #expect(trial.rung == (reached[trial.candidate].map { $0 + 1 } ?? 0), "\(trial)")
            reached[trial.candidate] = trial.rung
        }
        #expect(trials.contains { $0.rung == 2 && $0.budget == 4 }, "some trial reached the top rung")
        // The cost of all trials asked equals what it says it spent.
        let cost = trials.reduce(0) { total, trial in total + trial.budget - (trial.rung == 0 ? 0 : [1, 2, 4][trial.rung - 1]) }
        #expect(cost == asha.spent)
    }

    @Test("ASHA gives the same trials for the same tells")
    func deterministic() {
        func run() -> [Trial<Int>] {
            var asha = AsynchronousHalving(minimumBudget: 1, maximumBudget: 9, reduction: 3, totalBudget: 60, seed: 4, sample: Self.counter())
            return drive(&asha, inFlight: 3) { c, b in Double(c % 13) + Double(b) }
        }
        #expect(run() == run())
    }

    @Test("Hyperband runs one ASHA per bracket, starting bracket s at r·ηˢ, sharing the budget and never a candidate")
    func hyperband() {
        var hyperband = Hyperband(minimumBudget: 1, maximumBudget: 9, reduction: 3, totalBudget: 90, seed: 1, sample: Self.counter())
        #expect(hyperband.brackets.map { $0.budgets } == [[1, 3, 9], [3, 9], [9]])
        let trials = drive(&hyperband, inFlight: 2) { c, b in Double(c % 31) + Double(b) }
        #expect(hyperband.isFinished)
        #expect(hyperband.brackets.allSatisfy { $0.spent <= 30 })
        let starts = trials.filter { $0.rung == 0 }
        #expect(Set(starts.map(\.candidate)).count == starts.count, "a candidate started twice")
        #expect(Set(starts.map(\.budget)) == [1, 3, 9], "every bracket started trials")
        #expect(hyperband.spent == hyperband.brackets.reduce(0) { $0 + $1.spent })
    }

    @Test("non-dominated sorting and the hypervolume against hand-worked fronts")
    func pareto() {
        // Minimize both: (1,4), (2,2), (4,1) are the front; (3,3) is dominated by (2,2); (5,5) by all.
        let points: [[Double]] = [[3, 3], [1, 4], [2, 2], [5, 5], [4, 1]]
        let fronts = ParetoFront.sort(points)
        #expect(fronts == [[1, 2, 4], [0], [3]])
        #expect(ParetoFront.dominates([1, 1], [1, 2]) && !ParetoFront.dominates([1, 1], [1, 1]) && !ParetoFront.dominates([0, 2], [1, 1]))
        // Reference (6, 6): staircase area = 5·2 + 4·2 + 2·3 … worked out by strips along x:
        // x∈[1,2): y from 4 → 2·… ; compute directly: union of boxes [1,6]×[4,6], [2,6]×[2,6], [4,6]×[1,6].
        // Area = (6−1)(6−4) + (6−2)(4−2) + (6−4)(2−1) = 10 + 8 + 2 = 20.
        #expect(abs(ParetoFront.hypervolume(points, reference: [6, 6]) - 20) < 1e-9)
        // 3-D: one point at the origin of a unit box is the whole box; two boxes overlap.
        #expect(abs(ParetoFront.hypervolume([[0, 0, 0]], reference: [1, 1, 1]) - 1) < 1e-12)
        // [0.5,1]×[0,1]×[0,1] ∪ [0,1]×[0.5,1]×[0,1] = 0.5 + 0.5 − 0.25 = 0.75.
        #expect(abs(ParetoFront.hypervolume([[0.5, 0, 0], [0, 0.5, 0]], reference: [1, 1, 1]) - 0.75) < 1e-12)
        // Points outside the box add nothing.
        #expect(ParetoFront.hypervolume([[2, 0, 0]], reference: [1, 1, 1]) == 0)
    }

    @Test("the 3-D hypervolume agrees with a Monte Carlo estimate on random fronts")
    func hypervolumeMonteCarlo() {
        var generator = SplitMix64(seed: 12)
        for _ in 0..<3 {
            let points = (0..<12).map { _ in (0..<3).map { _ in generator.nextUnit() } }
            let exact = ParetoFront.hypervolume(points, reference: [1, 1, 1])
            var inside = 0
            let samples = 200_000
            for _ in 0..<samples {
                let x = (0..<3).map { _ in generator.nextUnit() }
                if points.contains(where: { p in zip(p, x).allSatisfy { $0 <= $1 } }) { inside += 1 }
            }
            let estimate = Double(inside) / Double(samples)
            #expect(abs(exact - estimate) < 0.005, "exact \(exact), Monte Carlo \(estimate)")
        }
    }
}
