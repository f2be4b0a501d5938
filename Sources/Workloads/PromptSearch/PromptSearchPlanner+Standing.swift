import Search

extension PromptSearchPlanner {
    /// Candidates by dev accuracy on the largest slice each was scored on, with Wilson 95%
    /// intervals, for the dashboard and `leaderboard.svg`.
    func ranking() -> Ranking? {
        Ranking(
            metric: "dev accuracy", higherIsBetter: true,
            rows: ranked.prefix(100).enumerated().map { rank, row in
                let correct = devCorrect(row.candidate, examples: row.budget)
                let interval = ConfidenceInterval.wilson(successes: correct, trials: row.budget)
                return Ranking.Row(
                    rank: rank + 1, name: row.candidate.description, value: interval.estimate, lower: interval.lower, upper: interval.upper,
                    detail: "\(correct)/\(row.budget) dev examples: \(rendered(row.candidate).instruction)")
            })
    }
}
