import Datasets
import Foundation
import NN
import Tensor
import Wire

/// Trains the task's classifier in this process and returns its test metrics.
struct TrainExecutor: Executor {
    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_TrainTask.self, from: payload)
        let (train, test) = try DatasetCatalog.load(task.dataset)
        var trainer = ClassifierTrainer(task: task, imageShape: train.imageShape, classes: train.classes)
        return try trainer.run(train: train, test: test, context: context)
    }
}
