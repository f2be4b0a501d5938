import Datasets
import Search
import Wire

/// The one definition of what a `NasTrialTask` may hold, checked by the executor on every
/// task from the network before anything is built or allocated (the spec parser keeps to
/// the same limits).
enum NASTrialRules {
    static let schedules = ["constant", "cosine"]
    static let epochs = 1...1000
    static let devExamples = 1...1_000_000
    static let trainLimit = 0...100_000_000
    static let latencyRuns = 0...10_000
    static let maximumSettings = 64
    /// A kept checkpoint's id (a UUID and a counter) is far shorter.
    static let maximumKeptIDBytes = 128
    private static let rule = TaskRule(subject: "nas trial")

    /// Checks the fields and the settings; returns the recipe they describe.
    static func validate(_ task: Orrery_V1_Workloads_NasTrialTask) throws(TaskError) -> ArchitectureRecipe {
        try rule.choice("dataset", task.dataset, DatasetCatalog.names)
        try rule.choice("schedule", task.schedule, schedules)
        try rule.range("horizon_epochs", Int(task.horizonEpochs), epochs)
        try rule.range("end_epoch", Int(task.endEpoch), 1...Int(task.horizonEpochs))
        try rule.range("start_epoch", Int(task.startEpoch), 0...Int(task.endEpoch) - 1)
        try rule.range("latency_runs", Int(task.latencyRuns), latencyRuns)
        try rule.range("train_limit", Int(task.trainLimit), trainLimit)
        if !task.final { try rule.range("dev_examples", Int(task.devExamples), devExamples) }
        try rule.count("kept_checkpoint bytes", task.keptCheckpoint.utf8.count, 0...maximumKeptIDBytes)
        if task.startEpoch > 0 && task.checkpoint.isEmpty && task.keptCheckpoint.isEmpty {
            throw rule.fail("start_epoch \(task.startEpoch) needs a checkpoint or a kept_checkpoint")
        }
        if !task.checkpoint.isEmpty && !task.keptCheckpoint.isEmpty { throw rule.fail("a task takes a checkpoint or a kept_checkpoint, not both") }
        if task.startEpoch == 0 && !task.keptCheckpoint.isEmpty { throw rule.fail("a kept_checkpoint needs a start_epoch after 0") }
        if task.final && (!task.checkpoint.isEmpty || !task.keptCheckpoint.isEmpty) {
            throw rule.fail("a final retraining starts from scratch; it takes no checkpoint")
        }
        if task.final && (task.returnCheckpoint || task.keepCheckpoint) { throw rule.fail("a final retraining returns and keeps no checkpoint") }
        try rule.count("settings", task.settings.count, 1...maximumSettings)
        guard let (shape, classes) = DatasetCatalog.shape(of: task.dataset) else { throw rule.fail("unknown data set") }
        return try ArchitectureRecipe(settings(task), imageShape: shape, classes: classes, subject: "nas trial")
    }

    static func settings(_ task: Orrery_V1_Workloads_NasTrialTask) -> [String: ParameterValue] {
        task.settings.mapValues { ParameterValue(parsing: $0) }
    }
}
