import Search

extension NASPlanner {
    /// Trials by dev accuracy at their largest budget, with Wilson 95% intervals over the
    /// dev examples, for the dashboard and `leaderboard.svg`.
    func ranking() -> Ranking? {
        let dev = plan.devExamples
        return Ranking(
            metric: "dev accuracy", higherIsBetter: true,
            rows: ranked.prefix(100).enumerated().map { rank, entry in
                let record = trial(entry.configuration)
                let interval = ConfidenceInterval.wilson(successes: Int((entry.score * Double(dev)).rounded()), trials: dev)
                return Ranking.Row(
                    rank: rank + 1, name: "trial \(record?.id ?? rank) (\(entry.epochs) epochs)", value: entry.score,
                    lower: dev > 0 ? interval.lower : nil, upper: dev > 0 ? interval.upper : nil, detail: entry.configuration.description)
            })
    }

    /// Every trial at the largest budget on (dev accuracy, parameters, latency), with the
    /// three-objective front marked.
    func paretoSet() -> ParetoSet? {
        let front = NASFront(records: records, reference: plan.reference)
        guard !front.points.isEmpty else { return nil }
        let members = Set(front.front)
        return ParetoSet(
            objectives: ["dev_accuracy", "parameters", "latency_ms"], maximize: [true, false, false],
            points: front.points.enumerated().map { index, point in
                ParetoSet.Point(
                    name: "trial \(point.record.id)", values: [point.accuracy, Double(point.record.parameters), point.record.latencyMs],
                    onFront: members.contains(index), detail: point.record.configuration.description)
            })
    }
}
