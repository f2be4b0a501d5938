import Collectives
import Datasets
import Foundation
import NN
import Search
import Tensor
import Wire

/// The training loop for a classifier: seeded shuffling, mini-batches, cross-entropy,
/// the optimizer and schedule from the task, evaluation on the test split after each epoch.
/// The same seed gives bit-identical weights on every run.
struct ClassifierTrainer {
    let task: Orrery_V1_Workloads_TrainTask
    let model: Sequential
    let optimizer: any Optimizer
    /// Dropout layers of a model built from `architecture`, reseeded each epoch.
    let dropouts: [Dropout]

    /// Where the trained weights go (already resolved inside the worker's output
    /// directory); nil: not saved.
    let savePath: String?

    /// Builds the model and optimizer the task names; an unknown name is an error, never a
    /// silent default. The task must have passed `TrainTaskRules.validate`.
    init(task: Orrery_V1_Workloads_TrainTask, imageShape: [Int], classes: Int, savePath: String? = nil) throws(TaskError) {
        self.task = task
        self.savePath = savePath
        (model, dropouts) = try Self.makeModel(task, imageShape: imageShape, classes: classes)
        guard let optimizer = OptimizerChoice.make(
            task.optimizer, parameters: model.parameters, learningRate: task.learningRate, momentum: task.momentum,
            nesterov: task.nesterov, weightDecay: task.weightDecay)
        else {
            throw TaskError("train task: unknown optimizer '\(task.optimizer)'", retryable: false)
        }
        self.optimizer = optimizer
        guard TrainTaskRules.schedules.contains(task.schedule) else {
            throw TaskError("train task: unknown schedule '\(task.schedule)'", retryable: false)
        }
    }

    /// The model the task describes: by `architecture` (a NAS winner), or by model, widths
    /// and activation.
    private static func makeModel(
        _ task: Orrery_V1_Workloads_TrainTask, imageShape: [Int], classes: Int
    ) throws(TaskError) -> (Sequential, [Dropout]) {
        if !task.architecture.isEmpty {
            let recipe = try ArchitectureRecipe(
                task.architecture.mapValues { ParameterValue(parsing: $0) }, imageShape: imageShape, classes: classes, subject: "train task",
                batchSize: Int(task.batchSize))
            return recipe.architecture.make(imageShape: imageShape, classes: classes, seed: task.seed)
        }
        var generator = SplitMix64(seed: task.seed)
        guard let activation = Activation.Kind(rawValue: task.activation) else {
            throw TaskError("train task: unknown activation '\(task.activation)'", retryable: false)
        }
        let hidden = task.hidden.map(Int.init)
        switch task.model {
        case "cnn":
            return (CNN.make(imageShape: imageShape, channels: task.channels.map(Int.init), hidden: hidden, classes: classes, using: &generator), [])
        case "mlp":
            return (MLP.make([imageShape.reduce(1, *)] + hidden + [classes], activation: activation, using: &generator), [])
        default:
            throw TaskError("train task: unknown model '\(task.model)'", retryable: false)
        }
    }

    /// Trains to the end: alone, or as one rank of a data-parallel gang when the context
    /// has one. Each global batch (the same seeded order on every rank) is split into
    /// contiguous shards, one per rank; each rank's loss is scaled by its share of the
    /// batch, so the all-reduced (summed) gradients equal the gradient of the whole batch,
    /// and every rank takes the same optimizer step. Rank 0 evaluates, reports and commits
    /// checkpoints; a task resumed from a checkpoint skips the steps it records.
    mutating func run(train: LabeledImages, test: LabeledImages, context: TaskContext) throws -> TaskOutput {
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        let flat = FlatParameters(model)
        var firstStep = 0
        if let resume = context.resume {
            firstStep = try restore(resume.data)
        } else if let communicator, world > 1 {
            // Seeded initialisation is identical on every rank already; the broadcast makes
            // that a guarantee rather than an assumption.
            var values = flat.gatherValues()
            try communicator.broadcast(&values, root: 0)
            try flat.scatterValues(values)
        }
        let buckets = flat.buckets(maxElements: task.bucketElements > 0 ? Int(task.bucketElements) : 1 << 20)

        let examples = task.trainLimit > 0 ? min(Int(task.trainLimit), train.count) : train.count
        let batchSize = Int(task.batchSize)
        let stepsPerEpoch = (examples + batchSize - 1) / batchSize
        let schedule = learningRateSchedule(totalSteps: stepsPerEpoch * Int(task.epochs), stepsPerEpoch: stepsPerEpoch)

        var step = 0
        var trainLoss: Double = 0
        var evaluation = (accuracy: 0.0, loss: 0.0)
        let started = Date()
        model.train(true)
        for epoch in 0..<Int(task.epochs) {
            if step + stepsPerEpoch <= firstStep {
                step += stepsPerEpoch
                continue
            }
            dropouts.reseed(seed: task.seed, epoch: epoch)
            let epochStarted = Date(), stepsThisEpoch = step + stepsPerEpoch - max(step, firstStep)
            var epochLoss: [Float] = [0, 0]  // loss sum, examples: summed over ranks at the epoch's end
            let sampler = BatchSampler(count: examples, batchSize: batchSize, shuffle: true, seed: task.seed, epoch: epoch)
            for indices in sampler {
                defer { step += 1 }
                if step < firstStep { continue }
                if step % 50 == 0 { try context.checkCancellation() }
                if task.exactShards > 0 {
                    try exactGradients(indices, train: train, rank: rank, of: world, communicator: communicator, flat: flat, loss: &epochLoss)
                } else {
                    try backward(Self.shard(indices, rank: rank, of: world), of: indices.count, train: train, loss: &epochLoss)
                }
                if task.exactShards == 0, let communicator, world > 1 {
                    var gradients = flat.gatherGradients()
                    try gradients.withUnsafeMutableBufferPointer { (all) throws(CollectiveError) in
                        for bucket in buckets { try communicator.allReduce(UnsafeMutableBufferPointer(rebasing: all[bucket]), .sum) }
                    }
                    try flat.scatterGradients(gradients)
                }
                if task.clipNorm > 0 { clipGradientNorm(model.parameters, maxNorm: task.clipNorm) }
                optimizer.learningRate = schedule.rate(at: step)
                optimizer.step()
                if rank == 0, task.checkpointEvery > 0, (step + 1) % Int(task.checkpointEvery) == 0 {
                    context.commitCheckpoint(TaskCheckpoint(step: step + 1, data: try checkpoint(step: step + 1)))
                }
            }
            if let communicator, world > 1 { try communicator.allReduce(&epochLoss, .sum) }
            trainLoss = Double(epochLoss[0]) / Double(max(1, epochLoss[1]))
            guard rank == 0 else { continue }
            evaluation = try evaluate(test)
            let epochSeconds = Date().timeIntervalSince(epochStarted)
            context.record(step: epoch + 1, [
                "train/loss": trainLoss, "test/loss": evaluation.loss, "test/accuracy": evaluation.accuracy,
                "learning_rate": Double(optimizer.learningRate),
                "samples_per_second": Double(stepsThisEpoch * batchSize) / max(epochSeconds, 1e-9),
            ])
            context.reportProgress(
                Float(epoch + 1) / Float(task.epochs),
                String(format: "epoch %d: train loss %.4f, test accuracy %.2f%%%@", epoch + 1, trainLoss, 100 * evaluation.accuracy,
                    world > 1 ? " (\(world) workers)" : ""))
        }
        guard rank == 0 else { return TaskOutput(metrics: ["rank": Double(rank)]) }
        let seconds = Date().timeIntervalSince(started)
        if let savePath {
            try Safetensors.save(model.namedParameters(), to: savePath, metadata: ["orrery.model": task.model, "orrery.dataset": task.dataset])
        }
        let trained = max(0, step - firstStep)
        return TaskOutput(metrics: [
            "test_accuracy": evaluation.accuracy, "test_loss": evaluation.loss, "train_loss": trainLoss,
            "epochs": Double(task.epochs), "samples_per_second": Double(trained * batchSize) / max(seconds, 1e-9),
            "parameters": Double(model.parameterCount), "seconds": seconds, "workers": Double(world),
            "shared_memory": communicator?.usesSharedMemory == true ? 1 : 0,
            "resumed_at_step": Double(firstStep),
        ])
    }

    /// Gradients of `examples`, a part of a global batch of `total`, scaled by its share so
    /// that the parts' gradients sum to the batch's; the part's loss goes into `loss` (sum,
    /// count). Leaves the gradients in the model.
    private func backward(_ examples: ArraySlice<Int>, of total: Int, train: LabeledImages, loss: inout [Float]) throws {
        model.zeroGrad()
        guard !examples.isEmpty else { return }
        let (images, labels) = train.batch(examples)
        let value = try Tensor.crossEntropy(logits: model(images), targets: labels)
        try (value * (Float(examples.count) / Float(total))).backward()
        loss[0] += value.item * Float(examples.count)
        loss[1] += Float(examples.count)
    }

    /// The global batch's gradient, the same bits on any number of workers: the batch is
    /// cut into `exact_shards` fixed shards (by position, whoever computes them), each rank
    /// computes its contiguous run of shards one at a time, and the shards' gradients are
    /// summed in fixed point, locally and across the gang (`FixedPointSum`).
    private func exactGradients(
        _ indices: [Int], train: LabeledImages, rank: Int, of world: Int, communicator: Communicator?, flat: FlatParameters,
        loss: inout [Float]
    ) throws {
        let shards = Segmentation(count: indices.count, parts: Int(task.exactShards))
        var sum = FixedPointSum(count: flat.count)
        for shard in Segmentation(count: Int(task.exactShards), parts: world).segment(rank) {
            let examples = indices[shards.segment(shard)]
            guard !examples.isEmpty else { continue }
            try backward(examples, of: indices.count, train: train, loss: &loss)
            sum.add(flat.gatherGradients())
        }
        if let communicator, world > 1 { try sum.allReduce(communicator) }
        try flat.scatterGradients(sum.floats())
    }

    /// Rank `rank`'s contiguous share of a global batch (the first `count % world` ranks
    /// take one more).
    static func shard(_ indices: [Int], rank: Int, of world: Int) -> ArraySlice<Int> {
        indices[Segmentation(count: indices.count, parts: world).segment(rank)]
    }

    private func learningRateSchedule(totalSteps: Int, stepsPerEpoch: Int) -> LearningRateSchedule {
        let base: LearningRateSchedule =
            switch task.schedule {
            case "cosine": .cosine(base: task.learningRate, steps: max(1, totalSteps - Int(task.warmupSteps)), minimum: 0)
            case "step": .step(base: task.learningRate, every: max(1, stepsPerEpoch * 2), factor: 0.5)
            default: .constant(task.learningRate)  // "constant": the initializer refused any other name
            }
        return task.warmupSteps > 0 ? LearningRateSchedule.warmup(steps: Int(task.warmupSteps), then: base) : base
    }

    /// Model, optimizer state and step as safetensors bytes.
    private func checkpoint(step: Int) throws -> Data {
        try TrainingCheckpoint.encode(
            parameters: model.namedParameters(), optimizer: optimizer, step: step, metadata: ["orrery.model": task.model])
    }

    /// Loads a checkpoint into the model and optimizer; returns its step.
    private func restore(_ data: Data) throws -> Int {
        try TrainingCheckpoint.restore(data, parameters: model.namedParameters(), optimizer: optimizer)
    }

    /// Accuracy and mean loss over a whole split.
    func evaluate(_ data: LabeledImages) throws -> (accuracy: Double, loss: Double) {
        try ClassifierEvaluation.evaluate(model, on: data)
    }
}
