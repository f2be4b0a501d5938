import Datasets
import Foundation
import NN
import Tensor
import Wire

/// The training loop for a classifier: seeded shuffling, mini-batches, cross-entropy,
/// the optimizer and schedule from the task, evaluation on the test split after each epoch.
/// The same seed gives bit-identical weights on every run.
struct ClassifierTrainer {
    let task: Orrery_V1_Workloads_TrainTask
    let model: Sequential
    let optimizer: any Optimizer

    init(task: Orrery_V1_Workloads_TrainTask, imageShape: [Int], classes: Int) {
        self.task = task
        var generator = SplitMix64(seed: task.seed)
        let activation = Activation.Kind(rawValue: task.activation) ?? .relu
        let hidden = task.hidden.map(Int.init)
        if task.model == "cnn" {
            model = CNN.make(
                imageShape: imageShape, channels: task.channels.map(Int.init), hidden: hidden, classes: classes, using: &generator)
        } else {
            model = MLP.make([imageShape.reduce(1, *)] + hidden + [classes], activation: activation, using: &generator)
        }
        switch task.optimizer {
        case "sgd":
            optimizer = SGD(
                parameters: model.parameters, learningRate: task.learningRate, momentum: task.momentum,
                nesterov: task.nesterov, weightDecay: task.weightDecay)
        case "adamw":
            optimizer = Adam.adamW(parameters: model.parameters, learningRate: task.learningRate, weightDecay: task.weightDecay)
        default:
            optimizer = Adam(parameters: model.parameters, learningRate: task.learningRate, weightDecay: task.weightDecay)
        }
    }

    mutating func run(train: LabeledImages, test: LabeledImages, context: TaskContext) throws -> TaskOutput {
        let examples = task.trainLimit > 0 ? min(Int(task.trainLimit), train.count) : train.count
        let batchSize = Int(task.batchSize)
        let stepsPerEpoch = (examples + batchSize - 1) / batchSize
        let totalSteps = stepsPerEpoch * Int(task.epochs)
        let base: LearningRateSchedule =
            switch task.schedule {
            case "cosine": .cosine(base: task.learningRate, steps: max(1, totalSteps - Int(task.warmupSteps)), minimum: 0)
            case "step": .step(base: task.learningRate, every: max(1, stepsPerEpoch * 2), factor: 0.5)
            default: .constant(task.learningRate)
            }
        let schedule = task.warmupSteps > 0 ? LearningRateSchedule.warmup(steps: Int(task.warmupSteps), then: base) : base

        var step = 0
        var trainLoss: Double = 0
        var evaluation = (accuracy: 0.0, loss: 0.0)
        let started = Date()
        model.train(true)
        for epoch in 0..<Int(task.epochs) {
            var epochLoss: Double = 0
            let sampler = BatchSampler(count: examples, batchSize: batchSize, shuffle: true, seed: task.seed, epoch: epoch)
            for indices in sampler {
                if step % 50 == 0 { try context.checkCancellation() }
                let (images, labels) = train.batch(indices)
                let loss = try Tensor.crossEntropy(logits: model(images), targets: labels)
                model.zeroGrad()
                try loss.backward()
                if task.clipNorm > 0 { clipGradientNorm(model.parameters, maxNorm: task.clipNorm) }
                optimizer.learningRate = schedule.rate(at: step)
                optimizer.step()
                epochLoss += Double(loss.item) * Double(indices.count)
                step += 1
            }
            trainLoss = epochLoss / Double(examples)
            evaluation = try evaluate(test)
            context.reportProgress(
                Float(epoch + 1) / Float(task.epochs),
                String(format: "epoch %d: train loss %.4f, test accuracy %.2f%%", epoch + 1, trainLoss, 100 * evaluation.accuracy))
        }
        let seconds = Date().timeIntervalSince(started)
        if !task.savePath.isEmpty {
            try Safetensors.save(model.namedParameters(), to: task.savePath, metadata: ["orrery.model": task.model, "orrery.dataset": task.dataset])
        }
        return TaskOutput(metrics: [
            "test_accuracy": evaluation.accuracy, "test_loss": evaluation.loss, "train_loss": trainLoss,
            "epochs": Double(task.epochs), "samples_per_second": Double(examples * Int(task.epochs)) / max(seconds, 1e-9),
            "parameters": Double(model.parameterCount), "seconds": seconds,
        ])
    }

    /// Accuracy and mean loss over a whole split, without recording gradients.
    func evaluate(_ data: LabeledImages) throws -> (accuracy: Double, loss: Double) {
        model.train(false)
        defer { model.train(true) }
        return try withNoGrad { () throws -> (Double, Double) in
            var correct = 0
            var loss: Double = 0
            for indices in BatchSampler(count: data.count, batchSize: 1000, shuffle: false) {
                let (images, labels) = data.batch(indices)
                let logits = try model(images)
                loss += Double(try Tensor.crossEntropy(logits: logits, targets: labels).item) * Double(indices.count)
                let predictions = try logits.argmax(axis: 1).scalars
                correct += zip(predictions, labels).filter { Int($0) == $1 }.count
            }
            return (Double(correct) / Double(data.count), loss / Double(data.count))
        }
    }
}
