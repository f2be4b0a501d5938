import Datasets
import NN
import Tensor

/// The training loop every compression method shares: seeded shuffles of the first
/// `limit` training images, mini-batches, a cosine schedule over the run, a loss the method
/// chooses (cross-entropy, or distillation's), and a hook after each optimizer step
/// (magnitude pruning re-applies its masks there). The same task gives the same bits.
struct CompressionTrainer {
    let data: LabeledImages
    let examples: Int
    let batchSize: Int
    let seed: UInt64

    init(data: LabeledImages, limit: Int, batchSize: Int, seed: UInt64) {
        self.data = data
        examples = limit > 0 ? Swift.min(limit, data.count) : data.count
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Trains `epochs` epochs, epoch numbers `firstEpoch`…; returns the last epoch's mean loss.
    /// - Parameter loss: the loss of a batch from the model's logits, its labels and the
    ///   images' indices.
    @discardableResult
    /// - Parameter curve: the tag prefix of the run's points (`teacher`, `student`…): each
    ///   epoch's mean loss goes to `CURVE/train_loss` at epoch `firstEpoch + epoch + 1`.
    func train(
        _ model: Sequential, optimizer: any Optimizer, learningRate: Double, epochs: Int, firstEpoch: Int = 0, context: TaskContext,
        curve: String = "train",
        loss: (Tensor, [Int], [Int]) throws -> Tensor = { logits, labels, _ in try Tensor.crossEntropy(logits: logits, targets: labels) },
        afterStep: () -> Void = {}
    ) throws -> Double {
        let stepsPerEpoch = (examples + batchSize - 1) / batchSize
        let schedule = LearningRateSchedule.cosine(base: Float(learningRate), steps: Swift.max(1, stepsPerEpoch * epochs), minimum: 0)
        var mean = 0.0
        model.train(true)
        defer { model.train(false) }
        for epoch in 0..<epochs {
            var (sum, seen) = (0.0, 0)
            let sampler = BatchSampler(count: examples, batchSize: batchSize, shuffle: true, seed: seed, epoch: firstEpoch + epoch)
            for (offset, indices) in sampler.enumerated() {
                if offset % 50 == 0 { try context.checkCancellation() }
                let (images, labels) = data.batch(indices)
                model.zeroGrad()
                let value = try loss(model(images), labels, indices)
                try value.backward()
                optimizer.learningRate = schedule.rate(at: epoch * stepsPerEpoch + offset)
                optimizer.step()
                afterStep()
                sum += Double(value.item) * Double(labels.count)
                seen += labels.count
            }
            mean = sum / Double(Swift.max(1, seen))
            context.record(step: firstEpoch + epoch + 1, ["\(curve)/train_loss": mean])
        }
        return mean
    }
}
