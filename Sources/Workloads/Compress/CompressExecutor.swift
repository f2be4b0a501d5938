import Datasets
import Foundation
import Wire

/// Runs compression tasks on a worker: checks the task, loads the data set once, runs the
/// method, returns the scored model.
struct CompressExecutor: Executor {
    private let datasets = RecentValueCache<(train: LabeledImages, test: LabeledImages)>(capacity: 2)

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_CompressTask.self, from: payload)
        let (base, student) = try CompressTaskRules.validate(task)
        let data = try datasets.value(for: task.dataset) { try DatasetCatalog.load(task.dataset) }
        let result = try CompressionMethods(task: task, base: base, student: student, train: data.train, test: data.test, context: context).run()
        let metrics = [
            "test_accuracy": result.testAccuracy, "bytes": Double(result.bytes), "parameters": Double(result.parameters),
            "latency_ms": result.latencyMs, "seconds": result.seconds,
        ]
        return TaskOutput(metrics: metrics, payload: EnvelopeCodec.encodePayload(result))
    }
}
