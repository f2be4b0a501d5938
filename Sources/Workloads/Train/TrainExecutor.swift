import Datasets
import Foundation
import NN
import Tensor
import Wire

/// Trains the task's classifier in this process and returns its test metrics.
struct TrainExecutor: Executor {
    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_TrainTask.self, from: payload)
        try TrainTaskRules.validate(task)
        // Refused before hours of training, not after.
        let savePath = task.savePath.isEmpty ? nil : try context.outputPath(task.savePath)
        let (train, test) = try DatasetCatalog.load(task.dataset)
        if task.architecture.isEmpty { _ = try TrainTaskRules.parameterCount(task, imageShape: train.imageShape, classes: train.classes) }
        var trainer = try ClassifierTrainer(task: task, imageShape: train.imageShape, classes: train.classes, savePath: savePath)
        return try trainer.run(train: train, test: test, context: context)
    }
}
