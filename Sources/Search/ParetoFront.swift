/// Multi-objective ranking, every objective minimized (negate one to maximize it).
public enum ParetoFront {
    /// True when `a` is no worse than `b` in every objective and better in one.
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        var better = false
        for (x, y) in zip(a, b) {
            if x > y { return false }
            if x < y { better = true }
        }
        return better
    }

    /// Non-dominated sorting (Deb et al. 2002, NSGA-II): front 0 is the points no other
    /// dominates, front 1 those dominated only by front 0, and so on. Indices into
    /// `points`, each front in ascending index order.
    public static func sort(_ points: [[Double]]) -> [[Int]] {
        var dominatedBy = Array(repeating: 0, count: points.count)
        var dominates: [[Int]] = Array(repeating: [], count: points.count)
        for i in points.indices {
            for j in points.indices where i != j {
                if Self.dominates(points[i], points[j]) { dominates[i].append(j) } else if Self.dominates(points[j], points[i]) { dominatedBy[i] += 1 }
            }
        }
        var fronts: [[Int]] = []
        var current = points.indices.filter { dominatedBy[$0] == 0 }
        while !current.isEmpty {
            fronts.append(current)
            var next: [Int] = []
            for i in current {
                for j in dominates[i] {
                    dominatedBy[j] -= 1
                    if dominatedBy[j] == 0 { next.append(j) }
                }
            }
            current = next.sorted()
        }
        return fronts
    }

    /// The volume of objective space that the points dominate and that `reference`
    /// bounds (every point's coordinates below the reference's count; others contribute
    /// only their part inside the box). Exact, by slicing along the last objective and
    /// recursing (HSO, While et al. 2006): fine for the tens of points a front has.
    public static func hypervolume(_ points: [[Double]], reference: [Double]) -> Double {
        let clipped = points.filter { zip($0, reference).allSatisfy { $0 < $1 } }
        return volume(clipped, reference: reference)
    }

    private static func volume(_ points: [[Double]], reference: [Double]) -> Double {
        guard !points.isEmpty else { return 0 }
        let d = reference.count
        if d == 1 { return reference[0] - points.map { $0[0] }.min()! }
        // Slices between consecutive values of the last objective: in each, the points at or
        // below the slice's bottom dominate a (d−1)-dimensional region.
        let sorted = points.sorted { $0[d - 1] < $1[d - 1] }
        var total = 0.0
        for (index, point) in sorted.enumerated() {
            let top = index + 1 < sorted.count ? sorted[index + 1][d - 1] : reference[d - 1]
            let height = top - point[d - 1]
            guard height > 0 else { continue }
            let projected = sorted.prefix(index + 1).map { Array($0.prefix(d - 1)) }
            total += height * volume(projected, reference: Array(reference.prefix(d - 1)))
        }
        return total
    }
}
