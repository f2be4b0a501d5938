import Search
import Tensor
import Testing

/// Runs a strategy to the end, telling scores from `score` in the order trials were asked
/// (or reversed, to check that arrival order within a batch does not matter).
func drive<S: SearchStrategy>(
    _ strategy: inout S, reverse: Bool = false, inFlight: Int = .max, _ score: (S.Candidate, Int) -> Double
) -> [Trial<S.Candidate>] {
    var all: [Trial<S.Candidate>] = []
    while !strategy.isFinished {
        var batch: [Trial<S.Candidate>] = []
        while batch.count < inFlight, let trial = strategy.ask() { batch.append(trial) }
        guard !batch.isEmpty else { break }
        all += batch
        for trial in reverse ? batch.reversed() : batch { strategy.tell(trial, score: score(trial.candidate, trial.budget)) }
    }
    return all
}

@Suite("Search strategies")
struct StrategyTests {
    @Test("exhaustive search asks for every distinct candidate once at full budget")
    func exhaustive() {
        var search = ExhaustiveSearch(candidates: [3, 1, 3, 2], budget: 10)
        let trials = drive(&search) { c, _ in Double(c) }
        #expect(trials.map(\.candidate) == [3, 1, 2] && trials.allSatisfy { $0.budget == 10 })
        #expect(search.isFinished)
    }

    @Test("random search draws distinct candidates, repeats with its seed, and stops when the space runs out")
    func random() {
        func run(_ seed: UInt64, count: Int) -> [Int] {
            var search = RandomSearch<Int>(count: count, budget: 1, seed: seed) { Int($0.next() % 50) }
            return drive(&search) { c, _ in Double(c) }.map(\.candidate)
        }
        let first = run(1, count: 20)
        #expect(Set(first).count == 20 && run(1, count: 20) == first && run(2, count: 20) != first)
        #expect(Set(run(3, count: 80)).count == 50)  // only 50 exist
    }

    @Test("successive halving keeps the better half each rung, doubles the budget, and finds the best at a fraction of the cost")
    func halving() {
        let quality = [0.2, 0.9, 0.4, 0.7, 0.1, 0.95, 0.3, 0.6]
        var search = SuccessiveHalving(candidates: Array(0..<8), minimumBudget: 4, maximumBudget: 64)
        // A rung's survivors are decided only when all of its scores are in.
        let firstRung = (0..<8).compactMap { _ in search.ask() }
        #expect(firstRung.count == 8 && search.ask() == nil && firstRung.allSatisfy { $0.budget == 4 && $0.rung == 0 })
        for trial in firstRung { search.tell(trial, score: quality[trial.candidate]) }
        #expect(Set(search.field) == [1, 3, 5, 7])
        _ = drive(&search) { c, _ in quality[c] }
        #expect(search.field == [5] && search.isFinished)
        // Cost in examples: 8·4 + 4·8 + 2·16 = 96, against 8·64 = 512 for scoring all at full budget.
        var again = SuccessiveHalving(candidates: Array(0..<8), minimumBudget: 4, maximumBudget: 64)
        let cost = drive(&again, reverse: true) { c, _ in quality[c] }.reduce(0) { $0 + $1.budget }
        #expect(cost == 96 && again.field == [5])
    }

    @Test("successive halving stops at the maximum budget with several left, and breaks ties by candidate order")
    func halvingCap() {
        var search = SuccessiveHalving(candidates: ["a", "b", "c", "d", "e", "f"], minimumBudget: 10, maximumBudget: 20)
        let trials = drive(&search) { _, _ in 0.5 }
        #expect(trials.map(\.budget) == [10, 10, 10, 10, 10, 10, 20, 20, 20])
        #expect(search.field == ["a", "b", "c"])
    }

    @Test("regularized evolution solves OneMax far beyond random search with the same budget, never repeats, and asks while trials are pending")
    func evolution() {
        typealias Bits = [Bool]
        let width = 24
        let sample: @Sendable (inout SplitMix64) -> Bits = { g in (0..<width).map { _ in g.next() % 2 == 0 } }
        let mutate: @Sendable (Bits, inout SplitMix64) -> Bits = { bits, g in
            var child = bits
            child[Int(g.next() % UInt64(width))].toggle()
            return child
        }
        let crossover: @Sendable (Bits, Bits, inout SplitMix64) -> Bits = { a, b, g in
            let cut = Int(g.next() % UInt64(width))
            return Array(a[..<cut] + b[cut...])
        }
        let ones = { (bits: Bits) in Double(bits.filter { $0 }.count) }
        var evolution = RegularizedEvolution(
            count: 300, budget: 1, populationSize: 20, tournamentSize: 5, crossoverRate: 0.3, seed: 4, sample: sample, mutate: mutate,
            crossover: crossover)
        // Steady state: with 3 scores told and 2 trials still out, it proposes more.
        let early = (0..<5).compactMap { _ in evolution.ask() }
        for trial in early.prefix(3) { evolution.tell(trial, score: ones(trial.candidate)) }
        #expect(evolution.ask() != nil)
        var trials = early + [Trial<Bits>]()
        trials += drive(&evolution, inFlight: 4) { bits, _ in ones(bits) }
        for trial in early.suffix(2) { evolution.tell(trial, score: ones(trial.candidate)) }
        #expect(Set(trials.map(\.candidate)).count == trials.count)
        let best = trials.map { ones($0.candidate) }.max()!
        var random = RandomSearch<Bits>(count: 300, budget: 1, seed: 4, sample: sample)
        let randomBest = drive(&random) { bits, _ in ones(bits) }.map { ones($0.candidate) }.max()!
        #expect(best >= Double(width - 1) && best > randomBest, "evolution \(best), random \(randomBest)")
    }

    @Test("regularized evolution tries its initial candidates first, once each")
    func evolutionSeeds() {
        var evolution = RegularizedEvolution<Int>(
            count: 5, budget: 1, populationSize: 3, seed: 1, initial: [42, 7, 42], sample: { Int($0.next() % 1000) }, mutate: { c, _ in c + 1 })
        let trials = drive(&evolution, inFlight: 1) { c, _ in Double(c) }
        #expect(Array(trials.map(\.candidate).prefix(2)) == [42, 7] && trials.count == 5 && Set(trials.map(\.candidate)).count == 5)
    }

    @Test("a leaderboard ranks by the largest budget seen, then by score")
    func leaderboard() {
        var board = Leaderboard<String>()
        board.record(Trial(candidate: "a", budget: 8), score: 0.6)
        board.record(Trial(candidate: "b", budget: 4), score: 0.9)
        board.record(Trial(candidate: "c", budget: 8), score: 0.7)
        board.record(Trial(candidate: "a", budget: 4), score: 0.1)  // an older, smaller result changes nothing
        #expect(board.ranked.map(\.candidate) == ["c", "a", "b"])
    }

    @Test("ties on a leaderboard go to the candidate recorded first, in either order")
    func leaderboardTies() {
        let names = (0..<20).map { "candidate \($0)" }
        for order in [names, names.reversed()] {
            var board = Leaderboard<String>()
            for name in order { board.record(Trial(candidate: name, budget: 8), score: 0.5) }
            #expect(board.ranked.map(\.candidate) == order)
        }
    }
}
