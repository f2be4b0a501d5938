import Foundation
import Wire

/// Plans a `compress` job: for each seed, the base model's training (and the student
/// trained alone, which needs no base) first; when a base arrives, every method that
/// compresses it, with its weights in the task. Tasks are keyed `method/seed-N`; the plan
/// depends only on the spec and the outcomes in order (the replay contract).
final class CompressPlanner: Planner {
    let spec: CompressSpec
    private(set) var results: [String: Orrery_V1_Workloads_CompressResult] = [:]
    private(set) var failures: [String: String] = [:]
    private var planned: Set<String> = []

    init(spec: CompressSpec) { self.spec = spec }

    static func key(_ method: String, _ seed: UInt64) -> String { "\(method)/seed-\(seed)" }

    func start() -> [PlannedTask] {
        spec.seeds.flatMap { seed in
            spec.methods.filter { !CompressTaskRules.fromBase.contains($0.method) }.map { plan($0, seed: seed, base: Data()) }
        }
    }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        switch outcome.result {
        case .failure(let message):
            failures[outcome.key] = message
            return []
        case .success(let output):
            guard let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_CompressResult.self, from: output.payload) else {
                failures[outcome.key] = "the result does not decode"
                return []
            }
            guard let seed = spec.seeds.first(where: { Self.key("base", $0) == outcome.key }) else {
                results[outcome.key] = result
                return []
            }
            guard !result.weights.isEmpty else {
                failures[outcome.key] = "the base result carries no weights"
                return []
            }
            results[outcome.key] = result
            return spec.methods.filter { CompressTaskRules.fromBase.contains($0.method) }.map { plan($0, seed: seed, base: result.weights) }
        }
    }

    private func plan(_ template: Orrery_V1_Workloads_CompressTask, seed: UInt64, base: Data) -> PlannedTask {
        var task = template
        task.seed = seed
        task.baseWeights = base
        let key = Self.key(task.method, seed)
        planned.insert(key)
        return PlannedTask(key: key, payload: EnvelopeCodec.encodePayload(task))
    }

    /// Tasks planned, or that will be once their seed's base arrives; a failed base ends its seed.
    private var outstanding: Int {
        let dependent = spec.methods.filter { CompressTaskRules.fromBase.contains($0.method) }.count
        let waiting = spec.seeds.filter { results[Self.key("base", $0)] == nil && failures[Self.key("base", $0)] == nil }.count
        return planned.count - results.count - failures.count + waiting * dependent
    }

    var isComplete: Bool { outstanding == 0 }

    var failureReason: String? {
        let bases = spec.seeds.map { Self.key("base", $0) }
        guard bases.allSatisfy({ failures[$0] != nil }) else { return nil }
        return "every base model failed to train; the first: \(failures[bases[0]]!)"
    }

    var expectedTaskCount: Int? { spec.seeds.count * spec.methods.count }

    var plannedCost: String? { "\(spec.seeds.count * spec.methods.count) tasks: \(spec.methods.map(\.method).joined(separator: ", ")) × \(spec.seeds.count) seeds" }

    var statusLine: String? {
        guard let base = results.keys.sorted().first(where: { $0.hasPrefix("base/") }).flatMap({ results[$0] }) else { return nil }
        return String(format: "%d/%d tasks done; base %.2f%%", results.count, expectedTaskCount ?? 0, 100 * base.testAccuracy)
    }

    func report() -> JobReport { CompressReport(spec: spec, results: results, failures: failures).make() }

    /// Every method (means over its seeds) on test accuracy, stored bytes and batch-1
    /// latency, with the front marked, for the dashboard and `pareto.svg`.
    func paretoSet() -> ParetoSet? {
        ParetoSet.marking(
            objectives: ["test_accuracy", "bytes", "latency_ms"], maximize: [true, false, false],
            CompressReport(spec: spec, results: results, failures: failures).rows().map { row in
                (row.label, [row.accuracy.estimate, row.bytes, row.latencyMs], "\(row.seeds) seed(s), \(Int(row.parameters)) parameters")
            })
    }
}
