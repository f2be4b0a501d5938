import Search

/// The accuracy / size / latency trade-off of a search's trials: the non-dominated ones
/// (maximize dev accuracy, minimize parameters and batch-1 latency) and the hypervolume they
/// dominate inside the reference box, as a fraction of the box between the reference and
/// the ideal point (accuracy 1, no parameters, no time).
///
/// Only trials trained to the largest budget reached take part: a 1-epoch trial's accuracy
/// is not comparable with a 9-epoch one's.
struct NASFront {
    struct Point {
        let record: NASTrialRecord
        var accuracy: Double { record.devAccuracy ?? 0 }
        var objectives: [Double] { [-accuracy, Double(record.parameters), record.latencyMs] }
    }

    let points: [Point]
    /// Indices into `points` of the non-dominated ones, by accuracy (best first).
    let front: [Int]
    let hypervolume: Double
    let epochs: Int

    init(records: [NASTrialRecord], reference: NASPlan.Reference) {
        let trained = records.filter { !$0.failed && $0.devAccuracy != nil }
        let epochs = trained.map(\.epochs).max() ?? 0
        let points = trained.filter { $0.epochs == epochs }.map(Point.init)
        let fronts = ParetoFront.sort(points.map(\.objectives))
        let front = (fronts.first ?? []).sorted { points[$0].accuracy != points[$1].accuracy ? points[$0].accuracy > points[$1].accuracy : $0 < $1 }
        let box = [-reference.accuracy, reference.parameters, reference.latencyMs]
        let volume = (1 - reference.accuracy) * reference.parameters * reference.latencyMs
        (self.epochs, self.points, self.front) = (epochs, points, front)
        hypervolume = ParetoFront.hypervolume(front.map { points[$0].objectives }, reference: box) / volume
    }

    /// The front's fastest point within `points` of accuracy of the best, and its latency
    /// as a fraction of the best's (the "within 1 point at ≤ ¼ of the latency" question).
    func fastest(within margin: Double) -> (point: Point, latencyRatio: Double)? {
        guard let best = front.first.map({ points[$0] }), best.record.latencyMs > 0 else { return nil }
        let near = front.map { points[$0] }.filter { $0.accuracy >= best.accuracy - margin }
        guard let fastest = near.min(by: { $0.record.latencyMs < $1.record.latencyMs }) else { return nil }
        return (fastest, fastest.record.latencyMs / best.record.latencyMs)
    }
}
