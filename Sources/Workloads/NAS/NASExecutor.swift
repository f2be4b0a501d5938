import Datasets
import Foundation
import Wire

/// Runs NAS trials on a worker: checks the task, trains, scores.
struct NASExecutor: Executor {
    /// The data sets this worker has loaded (a search's trials all use one).
    private let datasets = RecentValueCache<(train: LabeledImages, test: LabeledImages)>(capacity: 2)
    /// States of promotable trials this worker trained (`promotion_state: kept`). A
    /// trial's state is weights plus optimizer moments (about 3× the parameters in floats:
    /// 5 MB for the largest CNNs of the example space); 1 GiB holds a search's rung.
    let kept = KeptCheckpoints(capacityBytes: 1 << 30)

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let started = Date().timeIntervalSince1970 * 1000
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: payload)
        let recipe = try NASTrialRules.validate(task)
        if !task.savePath.isEmpty { _ = try context.outputPath(task.savePath) }  // refused before training, not after
        let data = try datasets.value(for: task.dataset) { try DatasetCatalog.load(task.dataset) }
        let trainer = NASTrialTrainer(task: task, recipe: recipe, imageShape: data.train.imageShape, classes: data.train.classes)
        // A kept state this worker no longer holds (another worker's, or evicted) is not an
        // error: the trial trains its earlier epochs again, to the same bits.
        let start = task.checkpoint.isEmpty ? (task.keptCheckpoint.isEmpty ? nil : kept.kept(task.keptCheckpoint)) : task.checkpoint
        let trained = try trainer.run(train: data.train, test: data.test, start: start, keep: kept, context: context)
        var result = trained.result
        result.startedUnixMs = started
        result.finishedUnixMs = Date().timeIntervalSince1970 * 1000
        var metrics = ["parameters": Double(result.parameters), "latency_ms": result.latencyMs, "seconds": result.seconds]
        if let last = result.devAccuracy.last { metrics["dev_accuracy"] = last }
        if task.final { metrics["test_accuracy"] = result.testAccuracy }
        return TaskOutput(metrics: metrics, payload: EnvelopeCodec.encodePayload(result), finalCheckpoint: trained.kept)
    }
}
