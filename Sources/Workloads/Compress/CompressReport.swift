import Foundation
import Search
import Wire

/// The report of a `compress` job: every method's test accuracy over the seeds with a 95%
/// interval, its change against the base model on the same seed (paired), its stored size
/// and measured batch-1 latency against the base's, and which methods sit on the front of
/// (accuracy, bytes, latency); distillation is also compared with its student trained
/// alone. `compress.csv` has one row per task.
struct CompressReport {
    let spec: CompressSpec
    let results: [String: Orrery_V1_Workloads_CompressResult]
    let failures: [String: String]

    /// One method's summary over the seeds that finished.
    struct Row: Encodable {
        let method: String
        let label: String
        let seeds: Int
        let accuracy: ConfidenceInterval
        /// Paired over seeds against the base (distill and student: against the student alone / base).
        let change: ConfidenceInterval?
        let changeAgainst: String?
        let bytes: Double
        let sizeRatio: Double
        let latencyMs: Double
        let speedup: Double
        let parameters: Double
        let multiplyAdds: Double
        let sparsity: Double?
        var onFront = false
    }

    func label(_ task: Orrery_V1_Workloads_CompressTask) -> String {
        switch task.method {
        case "base": "base (float32)"
        case "int8": "int8 (per-channel weights, per-row activations)"
        case "magnitude": String(format: "magnitude pruning %.0f%% (%d rounds)", 100 * task.amount, task.rounds)
        case "structured": String(format: "neurons and channels removed, %.0f%% kept (%d rounds)", 100 * task.amount, task.rounds)
        case "distill": String(format: "distilled student (T = %g, α = %g)", task.temperature, task.alpha)
        default: "student trained alone"
        }
    }

    func rows() -> [Row] {
        let base = spec.seeds.compactMap { results[CompressPlanner.key("base", $0)] }
        let baseBytes = base.map { Double($0.bytes) }.mean, baseLatency = base.map(\.latencyMs).mean
        var rows = spec.methods.compactMap { task -> Row? in
            let done = spec.seeds.compactMap { seed in results[CompressPlanner.key(task.method, seed)].map { (seed, $0) } }
            guard !done.isEmpty else { return nil }
            let against = task.method == "distill" ? "student" : task.method == "base" ? nil : "base"
            let pairs = against.map { other in
                done.compactMap { seed, result in results[CompressPlanner.key(other, seed)].map { result.testAccuracy - $0.testAccuracy } }
            }
            let bytes = done.map { Double($0.1.bytes) }.mean, latency = done.map(\.1.latencyMs).mean
            return Row(
                method: task.method, label: label(task), seeds: done.count, accuracy: .mean(done.map(\.1.testAccuracy)),
                change: pairs.flatMap { $0.isEmpty ? nil : ConfidenceInterval.mean($0) }, changeAgainst: against,
                bytes: bytes, sizeRatio: bytes > 0 ? baseBytes / bytes : 0, latencyMs: latency, speedup: latency > 0 ? baseLatency / latency : 0,
                parameters: done.map { Double($0.1.parameters) }.mean, multiplyAdds: done.map { Double($0.1.multiplyAdds) }.mean,
                sparsity: task.method == "magnitude" ? done.map(\.1.sparsity).mean : nil)
        }
        let front = ParetoFront.sort(rows.map { [-$0.accuracy.estimate, $0.bytes, $0.latencyMs] }).first ?? []
        for index in front { rows[index].onFront = true }
        return rows
    }

    func make() -> JobReport {
        let rows = rows()
        var lines = ["compress on \(spec.dataset), seeds \(spec.seeds.map(String.init).joined(separator: ", "))", ""]
        lines.append(pad(["method", "test accuracy (95%)", "change (paired)", "bytes", "smaller", "latency ms", "faster", "front"]))
        for row in rows {
            let change = row.change.map { String(format: "%+.2f [%+.2f, %+.2f] vs %@", 100 * $0.estimate, 100 * $0.lower, 100 * $0.upper, row.changeAgainst ?? "") } ?? "-"
            lines.append(pad([
                row.label, String(format: "%.2f%% [%.2f, %.2f]", 100 * row.accuracy.estimate, 100 * row.accuracy.lower, 100 * row.accuracy.upper),
                change, Self.bytes(row.bytes), String(format: "%.2f×", row.sizeRatio), String(format: "%.4f", row.latencyMs),
                String(format: "%.2f×", row.speedup), row.onFront ? "yes" : "",
            ]))
            if let sparsity = row.sparsity { lines.append(String(format: "    (%.1f%% of the pruned weights are zero; latency unchanged: a dense engine multiplies zeros too)", 100 * sparsity)) }
        }
        for key in failures.keys.sorted() { lines.append("failed \(key): \(failures[key]!)") }
        struct Document: Encodable {
            let dataset: String
            let seeds: [UInt64]
            let methods: [Row]
            let failures: [String: String]
        }
        return JobReport(
            text: lines.joined(separator: "\n") + "\n",
            json: ReportJSON.encode(Document(dataset: spec.dataset, seeds: spec.seeds, methods: rows, failures: failures)),
            files: ["compress.csv": csv()])
    }

    private func csv() -> String {
        var lines = ["method,seed,test_accuracy,base_accuracy,bytes,parameters,multiply_adds,latency_ms,sparsity,seconds"]
        for task in spec.methods {
            for seed in spec.seeds {
                guard let r = results[CompressPlanner.key(task.method, seed)] else { continue }
                lines.append("\(task.method),\(seed),\(r.testAccuracy),\(r.baseAccuracy),\(r.bytes),\(r.parameters),\(r.multiplyAdds),\(r.latencyMs),\(r.sparsity),\(r.seconds)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func bytes(_ value: Double) -> String {
        value >= 1_048_576 ? String(format: "%.2f MiB", value / 1_048_576) : String(format: "%.1f KiB", value / 1024)
    }

    private func pad(_ cells: [String]) -> String {
        let widths = [50, 24, 32, 11, 8, 11, 7, 5]
        return zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}

extension Array where Element == Double {
    fileprivate var mean: Double { isEmpty ? 0 : reduce(0, +) / Double(count) }
}
