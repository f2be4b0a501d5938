import Search

extension ParetoSet {
    /// Points on several objectives with the non-dominated ones marked (`ParetoFront`'s
    /// first front), for the planners that compare methods on accuracy, size and speed.
    static func marking(
        objectives: [String], maximize: [Bool], _ points: [(name: String, values: [Double], detail: String)]
    ) -> ParetoSet? {
        guard !points.isEmpty else { return nil }
        let minimized = points.map { point in zip(point.values, maximize).map { $1 ? -$0 : $0 } }
        let front = Set(ParetoFront.sort(minimized).first ?? [])
        return ParetoSet(
            objectives: objectives, maximize: maximize,
            points: points.enumerated().map { index, point in
                ParetoSet.Point(name: point.name, values: point.values, onFront: front.contains(index), detail: point.detail)
            })
    }
}
