import Datasets
import Foundation
import Wire

/// Runs NAS trials on a worker: checks the task, trains, scores.
struct NASExecutor: Executor {
    /// The data sets this worker has loaded (a search's trials all use one).
    private let datasets = RecentValueCache<(train: LabeledImages, test: LabeledImages)>(capacity: 2)

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let started = Date().timeIntervalSince1970 * 1000
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: payload)
        let recipe = try NASTrialRules.validate(task)
        if !task.savePath.isEmpty { _ = try context.outputPath(task.savePath) }  // refused before training, not after
        let data = try datasets.value(for: task.dataset) { try DatasetCatalog.load(task.dataset) }
        let trainer = NASTrialTrainer(task: task, recipe: recipe, imageShape: data.train.imageShape, classes: data.train.classes)
        var result = try trainer.run(train: data.train, test: data.test, context: context)
        result.startedUnixMs = started
        result.finishedUnixMs = Date().timeIntervalSince1970 * 1000
        var metrics = ["parameters": Double(result.parameters), "latency_ms": result.latencyMs, "seconds": result.seconds]
        if let last = result.devAccuracy.last { metrics["dev_accuracy"] = last }
        if task.final { metrics["test_accuracy"] = result.testAccuracy }
        return TaskOutput(metrics: metrics, payload: EnvelopeCodec.encodePayload(result))
    }
}
