import Foundation
import Tensor
import Wire

/// Plans a sweep round by round: round 0 covers the domain (grid or random), each later
/// round samples boxes around the best points found so far: ±5% of the domain in round 1
/// (about one grid step of a 20-point axis), shrinking to 30% of that each round after.
final class SweepPlanner: Planner {
    let plan: SweepPlan
    private let domain: [ClosedRange<Double>]
    private var generator: SplitMix64
    private var round = 0
    private var roundsPlanned = 0
    /// Points of each task without an outcome yet, by task key.
    private var pending: [String: [[Double]]] = [:]
    /// The best evaluations so far, ascending by value, at most `keep` of them.
    private(set) var best: [(point: [Double], value: Double)] = []
    private var keep: Int { max(plan.top, 16) }
    private var evaluations = 0
    private var tasksSucceeded = 0
    private var tasksFailed = 0
    private var firstFailure: String?

    init(plan: SweepPlan) {
        self.plan = plan
        self.domain = plan.function.domain(plan.dimension)
        self.generator = SplitMix64(seed: plan.seed)
    }

    func start() -> [PlannedTask] { planRound() }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        guard let points = pending.removeValue(forKey: outcome.key) else { return [] }
        switch outcome.result {
        case .success(let output):
            if let values = values(of: output, for: points) {
                tasksSucceeded += 1
                record(points: points, values: values)
            } else {
                noteFailure(outcome.key, "result does not match its \(points.count) points")
            }
        case .failure(let message):
            noteFailure(outcome.key, message)
        }
        guard pending.isEmpty, round + 1 < plan.rounds else { return [] }
        round += 1
        return planRound()
    }

    /// The task's values, if its payload decodes and has one value per point.
    private func values(of output: TaskOutput, for points: [[Double]]) -> [Double]? {
        guard let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_SweepResult.self, from: output.payload),
            result.values.count == points.count
        else { return nil }
        return result.values
    }

    private func noteFailure(_ key: String, _ message: String) {
        tasksFailed += 1
        if firstFailure == nil { firstFailure = "task \(key): \(message)" }
    }

    private func record(points: [[Double]], values: [Double]) {
        for (point, value) in zip(points, values) where value.isFinite {
            evaluations += 1
            insertBest(point: point, value: value)
        }
    }

    /// Keeps `best` ordered by value, ties broken by the point's coordinates: the order
    /// results arrive in (which workers and restarts change) never changes the leaderboard
    /// or the boxes of the next round.
    private func insertBest(point: [Double], value: Double) {
        let entry = (point: point, value: value)
        if best.count >= keep, let last = best.last, !Self.ranksBefore(entry, last) { return }
        let index = best.firstIndex { Self.ranksBefore(entry, $0) } ?? best.count
        best.insert(entry, at: index)
        if best.count > keep { best.removeLast() }
    }

    private static func ranksBefore(_ a: (point: [Double], value: Double), _ b: (point: [Double], value: Double)) -> Bool {
        if a.value != b.value { return a.value < b.value }
        return a.point.lexicographicallyPrecedes(b.point)
    }

    private func planRound() -> [PlannedTask] {
        roundsPlanned = round + 1
        let points = round == 0 && plan.strategy == "grid" ? gridPoints() : samplePoints()
        var tasks: [PlannedTask] = []
        var start = 0
        while start < points.count {
            let slice = Array(points[start..<min(points.count, start + plan.batch)])
            let key = "r\(round)-\(tasks.count)"
            var task = Orrery_V1_Workloads_SweepTask()
            task.function = plan.function.name
            task.points = slice.map { coordinates in
                var point = Orrery_V1_Workloads_SweepPoint()
                point.x = coordinates
                return point
            }
            pending[key] = slice
            tasks.append(PlannedTask(key: key, payload: EnvelopeCodec.encodePayload(task)))
            start += plan.batch
        }
        return tasks
    }

    private func gridPoints() -> [[Double]] {
        let k = plan.pointsPerAxis
        let axes = domain.map { range in
            (0..<k).map { range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(k - 1) }
        }
        var points: [[Double]] = [[]]
        for axis in axes {
            points = points.flatMap { prefix in axis.map { prefix + [$0] } }
        }
        return points
    }

    /// Uniform over the domain in round 0; later, uniform in boxes around the best points.
    private func samplePoints() -> [[Double]] {
        let centers = round == 0 ? [] : Array(best.prefix(plan.top)).map(\.point)
        let scale = round == 0 ? 1.0 : 0.05 * pow(0.3, Double(round - 1))
        return (0..<plan.points).map { index in
            domain.indices.map { axis in
                let range = domain[axis]
                let width = range.upperBound - range.lowerBound
                guard !centers.isEmpty else { return range.lowerBound + width * generator.nextUnit() }
                let center = centers[index % centers.count][axis]
                let value = center + width * scale * (2 * generator.nextUnit() - 1)
                return min(range.upperBound, max(range.lowerBound, value))
            }
        }
    }

    var isComplete: Bool { pending.isEmpty && roundsPlanned == plan.rounds }

    var failureReason: String? {
        guard tasksFailed > 0 else { return nil }
        return evaluations == 0 ? "every task failed; first: \(firstFailure ?? "")" : nil
    }

    var expectedTaskCount: Int? {
        let perRound = { (points: Int) in (points + self.plan.batch - 1) / self.plan.batch }
        let first = plan.strategy == "grid" ? perRound(Int(pow(Double(plan.pointsPerAxis), Double(plan.dimension)))) : perRound(plan.points)
        return first + (plan.rounds - 1) * perRound(plan.points)
    }

    private struct Summary: Encodable {
        struct Entry: Encodable {
            let rank: Int
            let value: Double
            let x: [Double]
        }
        let function: String
        let dimension: Int
        let strategy: String
        let rounds: Int
        let evaluations: Int
        let tasksSucceeded: Int
        let tasksFailed: Int
        let knownMinimum: Double
        let gap: Double?
        let best: [Entry]
    }

    func report() -> JobReport {
        let top = Array(best.prefix(plan.top))
        let gap = top.first.map { $0.value - plan.function.minimum }
        let summary = Summary(
            function: plan.function.name, dimension: plan.dimension, strategy: plan.strategy, rounds: plan.rounds,
            evaluations: evaluations, tasksSucceeded: tasksSucceeded, tasksFailed: tasksFailed,
            knownMinimum: plan.function.minimum, gap: gap,
            best: top.enumerated().map { Summary.Entry(rank: $0 + 1, value: $1.value, x: $1.point) })
        var lines = [
            "sweep \(plan.function.name) (\(plan.dimension)-d, \(plan.strategy), \(plan.rounds) round(s)): "
                + "\(evaluations) evaluations in \(tasksSucceeded + tasksFailed) tasks, \(tasksFailed) failed"
        ]
        if let first = top.first, let gap {
            lines.append(
                "best \(format(first.value)) (known minimum \(format(plan.function.minimum)), gap \(String(format: "%.3g", gap)))")
            lines.append(" rank  value         x")
            for (rank, entry) in top.enumerated() {
                let x = entry.point.map { String(format: "%.4f", $0) }.joined(separator: ", ")
                lines.append(String(format: " %4d  ", rank + 1) + format(entry.value).padding(toLength: 12, withPad: " ", startingAt: 0) + "  (\(x))")
            }
        }
        return JobReport(text: lines.joined(separator: "\n"), json: ReportJSON.encode(summary))
    }

    private func format(_ value: Double) -> String { String(format: "%.6g", value) }
}
