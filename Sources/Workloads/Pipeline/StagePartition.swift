/// Which contiguous units each pipeline stage runs.
struct StagePartition: Equatable, CustomStringConvertible {
    /// Stage s runs units `boundaries[s] ..< boundaries[s + 1]`.
    let boundaries: [Int]

    /// From units per stage, as a spec lists them.
    init(unitsPerStage: [Int]) {
        precondition(unitsPerStage.allSatisfy { $0 >= 1 })
        boundaries = unitsPerStage.reduce(into: [0]) { $0.append($0.last! + $1) }
    }

    var stages: Int { boundaries.count - 1 }
    func units(ofStage stage: Int) -> Range<Int> { boundaries[stage]..<boundaries[stage + 1] }
    var unitsPerStage: [Int] { (0..<stages).map { units(ofStage: $0).count } }

    var description: String { unitsPerStage.map(String.init).joined(separator: "+") }

    /// The partition into `stages` non-empty runs that minimizes the slowest stage's total
    /// cost (the pipeline's pace), by dynamic programming over cut points; among equally
    /// slow ones, the one whose earlier stages are lighter (they also carry the warm-up's
    /// extra activations under 1F1B). Deterministic for given costs.
    static func balanced(costs measured: [Double], stages: Int) -> StagePartition {
        // The costs arrive from rank 0 over the network: a value that is not a finite
        // time counts as nothing rather than poisoning the comparisons.
        let costs = measured.map { $0.isFinite && $0 > 0 ? $0 : 0 }
        let n = costs.count
        precondition(stages >= 1 && stages <= n, "\(stages) stages of \(n) units")
        var prefix = [0.0]
        for cost in costs { prefix.append(prefix.last! + cost) }
        func span(_ from: Int, _ to: Int) -> Double { prefix[to] - prefix[from] }
        // best[k][j]: the slowest stage when the first j units form k stages; cut[k][j] the
        // start of the k-th stage there.
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: n + 1), count: stages + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: n + 1), count: stages + 1)
        best[0][0] = 0
        for k in 1...stages {
            for j in k...n {
                for i in (k - 1)..<j where best[k - 1][i] < .infinity {
                    let slowest = max(best[k - 1][i], span(i, j))
                    // Strictly less: among ties the earliest cut stays, so later stages
                    // take more and earlier ones less.
                    if slowest < best[k][j] {
                        best[k][j] = slowest
                        cut[k][j] = i
                    }
                }
            }
        }
        var counts: [Int] = []
        var end = n
        for k in stride(from: stages, to: 0, by: -1) {
            let start = cut[k][end]
            counts.insert(end - start, at: 0)
            end = start
        }
        return StagePartition(unitsPerStage: counts)
    }
}
