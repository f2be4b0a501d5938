import Foundation

extension SweepPlanner {
    /// The lowest values found so far, for the dashboard and `leaderboard.svg`.
    func ranking() -> Ranking? {
        Ranking(
            metric: "\(plan.function.name) value", higherIsBetter: false,
            rows: best.prefix(max(plan.top, 10)).enumerated().map { rank, entry in
                Ranking.Row(
                    rank: rank + 1, name: "point \(rank + 1)", value: entry.value,
                    detail: "x = (" + entry.point.map { String(format: "%.4f", $0) }.joined(separator: ", ") + ")")
            })
    }
}
