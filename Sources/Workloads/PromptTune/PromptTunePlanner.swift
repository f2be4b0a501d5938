import Foundation
import Wire

/// Plans a `prompt-tune` job: every (problem, seed, variant) is one task — a gang task when
/// `workers` is set — all planned at the start, so a cluster runs as many at once as it
/// has workers; except that a distillation job's students wait for its teacher, whose
/// logits their payloads then carry. Its state is the outcomes by key, so replaying them
/// rebuilds it (the `Planner` contract); the report reads them in planned order.
final class PromptTunePlanner: Planner {
    let tasks: [Orrery_V1_Workloads_PromptTuneTask]
    private let keys: [String]
    private var outcomes: [String: TaskOutcome] = [:]
    /// Whether the students have been planned (at the teacher's success).
    private var studentsPlanned = false

    init(tasks: [Orrery_V1_Workloads_PromptTuneTask]) {
        self.tasks = tasks
        keys = tasks.enumerated().map { Self.key(index: $0, task: $1) }
    }

    /// A task that learns from a teacher's logits it does not have yet.
    private static func isStudent(_ task: Orrery_V1_Workloads_PromptTuneTask) -> Bool { task.hasDistill && task.method != "teacher" }

    private func plan(_ index: Int, teacherLogits: [Float]? = nil) -> PlannedTask {
        var task = tasks[index]
        if let teacherLogits { task.distill.teacherLogits = teacherLogits }
        return PlannedTask(
            key: keys[index], payload: EnvelopeCodec.encodePayload(task),
            gang: SingleTaskPlanner.gang(minimum: task.workersMin, maximum: task.workersMax))
    }

    /// "3-s1-soft-prompt/text": the task's place, seed and variant.
    static func key(index: Int, task: Orrery_V1_Workloads_PromptTuneTask) -> String {
        "\(index)-s\(task.seed)-\(task.variant)"
    }

    func start() -> [PlannedTask] { tasks.indices.filter { !Self.isStudent(tasks[$0]) }.map { plan($0) } }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        guard keys.contains(outcome.key) else { return [] }
        outcomes[outcome.key] = outcome
        guard !studentsPlanned, let teacher = tasks.firstIndex(where: { $0.method == "teacher" }), outcome.key == keys[teacher],
            case .success(let output) = outcome.result
        else { return [] }
        // A teacher's result that does not parse, or whose logits could not be rows of its
        // texts, fails the job through failureReason before any student carries them.
        guard let result = try? Orrery_V1_Workloads_PromptTuneResult(serializedBytes: output.payload),
            PromptTuneRules.usable(result.teacherLogits, unlabeled: tasks[teacher].distill.unlabeled)
        else { return [] }
        studentsPlanned = true
        return tasks.indices.filter { Self.isStudent(tasks[$0]) }.map { plan($0, teacherLogits: result.teacherLogits) }
    }

    var isComplete: Bool { outcomes.count == keys.count }

    var failureReason: String? {
        for key in keys {
            if case .failure(let message) = outcomes[key]?.result { return "task \(key): \(message)" }
        }
        if let teacher = tasks.firstIndex(where: { $0.method == "teacher" }), outcomes[keys[teacher]] != nil, !studentsPlanned {
            return "task \(keys[teacher]): the teacher's result carries no usable logits for its students"
        }
        return nil
    }

    var expectedTaskCount: Int? { keys.count }

    /// Each planned task's result, in planned order (nil: not in, failed or unreadable).
    var results: [(task: Orrery_V1_Workloads_PromptTuneTask, result: Orrery_V1_Workloads_PromptTuneResult?)] {
        zip(tasks, keys).map { task, key in
            guard case .success(let output) = outcomes[key]?.result else { return (task, nil) }
            return (task, try? Orrery_V1_Workloads_PromptTuneResult(serializedBytes: output.payload))
        }
    }

    func report() -> JobReport { PromptTuneReport(results: results).jobReport() }

    /// Every variant (a distillation's teacher too, and int8 runs as their own) on held-out
    /// accuracy and test texts per second, with the front marked, for the dashboard and
    /// `pareto.svg`; nil for meta-training.
    func paretoSet() -> ParetoSet? {
        ParetoSet.marking(
            objectives: ["test_accuracy", "texts_per_second"], maximize: [true, true],
            PromptTuneReport(results: results).rows().filter { $0.textsPerSecond > 0 }.map { row in
                (row.variant, [row.accuracy.estimate, row.textsPerSecond], "\(row.runs) run(s), \(row.trainableParameters) trainable values")
            })
    }

    var plannedCost: String? {
        let steps = tasks.reduce(0) { $0 + ($1.hasMeta ? Int($1.meta.metaSteps) : PromptTuneRules.untrained.contains($1.method) ? 0 : Int($1.steps)) }
        return "\(keys.count) tuning task\(keys.count == 1 ? "" : "s"), \(steps) optimizer steps in all"
    }

    /// With one task, its own progress notes (steps, loss) say more than a count.
    var statusLine: String? {
        let done = outcomes.count
        return keys.count == 1 || done == keys.count ? nil : "\(done)/\(keys.count) tuning tasks done"
    }
}
