import Datasets
import Foundation
import NN
import Tensor
import Wire

/// Trains one configuration for the epochs a trial asks for and scores it after each.
///
/// Everything that decides the weights is a function of the task: the seed builds the
/// model, each epoch's shuffle and dropout masks are drawn from (seed, epoch), and the
/// learning rate follows a schedule over `horizon_epochs`. So a trial trained 1 epoch and
/// continued from its checkpoint to 3 ends with the same bits as one trained 3 epochs
/// straight, and an attempt resumed from the last epoch's checkpoint on another worker ends
/// as the undisturbed one would.
struct NASTrialTrainer {
    let task: Orrery_V1_Workloads_NasTrialTask
    let recipe: ArchitectureRecipe
    let model: Sequential
    let dropouts: [Dropout]
    let optimizer: any Optimizer

    init(task: Orrery_V1_Workloads_NasTrialTask, recipe: ArchitectureRecipe, imageShape: [Int], classes: Int) {
        self.task = task
        self.recipe = recipe
        (model, dropouts) = recipe.architecture.make(imageShape: imageShape, classes: classes, seed: task.seed)
        optimizer = recipe.makeOptimizer(model.parameters)
    }

    /// - Parameters:
    ///   - start: the state after `start_epoch`; nil trains from epoch 0 (a promoted trial
    ///     whose kept state this worker does not hold ends with the same bits).
    ///   - keep: where `keep_checkpoint` puts the state at `end_epoch`.
    /// - Returns: the result, and with `keep_checkpoint` the kept state, which the executor
    ///   hands on as the task's final checkpoint (a copy for a promotion on another worker,
    ///   or after this one dies).
    func run(
        train data: LabeledImages, test: LabeledImages, start: Data?, keep: KeptCheckpoints?, context: TaskContext
    ) throws -> (result: Orrery_V1_Workloads_NasTrialResult, kept: TaskCheckpoint?) {
        let started = Date()
        let split = task.final
            ? TrialSplit(everything: data.count)
            : try TrialSplit(count: data.count, dev: Int(task.devExamples), trainLimit: Int(task.trainLimit), seed: task.splitSeed)
        var epoch = 0
        var curve: [Double] = []
        if let resume = context.resume {
            (epoch, curve) = try restore(resume.data)
        } else if let start {
            (epoch, curve) = try restore(start)
            guard epoch == Int(task.startEpoch) else {
                throw TaskError("nas trial: the checkpoint is at epoch \(epoch), the task starts at \(task.startEpoch)", retryable: false)
            }
        }
        let resumedAt = epoch
        let first = min(resumedAt, Int(task.startEpoch))
        let batchSize = recipe.batchSize
        let stepsPerEpoch = (split.train.count + batchSize - 1) / batchSize
        let schedule: LearningRateSchedule = task.schedule == "cosine"
            ? .cosine(base: Float(recipe.learningRate), steps: max(1, stepsPerEpoch * Int(task.horizonEpochs)), minimum: 0)
            : .constant(Float(recipe.learningRate))
        var trainLoss = 0.0
        model.train(true)
        while epoch < Int(task.endEpoch) {
            trainLoss = try trainEpoch(epoch, examples: split.train, data: data, schedule: schedule, stepsPerEpoch: stepsPerEpoch, context: context)
            epoch += 1
            if !task.final {
                curve.append(try ClassifierEvaluation.evaluate(model, on: data, indices: split.dev).accuracy)
                if epoch < Int(task.endEpoch) {
                    context.commitCheckpoint(TaskCheckpoint(step: epoch, data: try checkpoint(epoch: epoch, curve: curve)))
                }
            }
            context.record(
                [TaskScalar(tag: "train/loss", step: Int64(epoch), value: trainLoss)]
                    + (curve.last.map { [TaskScalar(tag: "dev/accuracy", step: Int64(epoch), value: $0)] } ?? []))
            context.reportProgress(
                Float(epoch - first) / Float(Int(task.endEpoch) - first),
                String(format: "epoch %d/%d: train loss %.4f%@", epoch, task.endEpoch, trainLoss,
                    curve.last.map { String(format: ", dev %.2f%%", 100 * $0) } ?? ""))
        }
        var result = Orrery_V1_Workloads_NasTrialResult()
        result.devAccuracy = curve
        result.parameters = UInt64(model.parameterCount)
        result.resumedAtEpoch = UInt32(resumedAt)
        result.trainLoss = trainLoss
        if task.final {
            result.testAccuracy = try ClassifierEvaluation.evaluate(model, on: test).accuracy
            if !task.savePath.isEmpty {
                try Safetensors.save(model.namedParameters(), to: try context.outputPath(task.savePath), metadata: metadata)
            }
        }
        var kept: TaskCheckpoint?
        if task.returnCheckpoint || task.keepCheckpoint {
            let state = try checkpoint(epoch: epoch, curve: curve)
            if task.returnCheckpoint { result.checkpoint = state }
            if task.keepCheckpoint, let keep {
                result.keptCheckpoint = keep.keep(state)
                kept = TaskCheckpoint(step: epoch, data: state)
            }
        }
        if task.latencyRuns > 0 { result.latencyMs = try InferenceLatency.median(model, image: (task.final ? test : data).batch([0]).images, runs: Int(task.latencyRuns)) }
        result.seconds = Date().timeIntervalSince(started)
        return (result, kept)
    }

    /// One pass over `examples` in the epoch's seeded order; returns the mean training loss.
    private func trainEpoch(
        _ epoch: Int, examples: [Int], data: LabeledImages, schedule: LearningRateSchedule, stepsPerEpoch: Int, context: TaskContext
    ) throws -> Double {
        dropouts.reseed(seed: task.seed, epoch: epoch)
        var (lossSum, seen) = (0.0, 0)
        let sampler = BatchSampler(count: examples.count, batchSize: recipe.batchSize, shuffle: true, seed: task.seed, epoch: epoch)
        for (offset, positions) in sampler.enumerated() {
            if offset % 50 == 0 { try context.checkCancellation() }
            let (images, labels) = data.batch(positions.map { examples[$0] })
            model.zeroGrad()
            let loss = try Tensor.crossEntropy(logits: model(images), targets: labels)
            try loss.backward()
            optimizer.learningRate = schedule.rate(at: epoch * stepsPerEpoch + offset)
            optimizer.step()
            lossSum += Double(loss.item) * Double(labels.count)
            seen += labels.count
        }
        return lossSum / Double(max(1, seen))
    }

    private var metadata: [String: String] {
        ["orrery.architecture": task.settings.keys.sorted().map { "\($0)=\(task.settings[$0]!)" }.joined(separator: ","), "orrery.dataset": task.dataset]
    }

    /// Weights, optimizer state, the epoch and the dev curve so far.
    private func checkpoint(epoch: Int, curve: [Double]) throws -> Data {
        try TrainingCheckpoint.encode(
            parameters: model.namedParameters(), optimizer: optimizer, step: epoch,
            metadata: metadata.merging(["orrery.dev_accuracy": curve.map { "\($0)" }.joined(separator: ",")]) { $1 })
    }

    /// - Throws: a non-retryable `TaskError` for a checkpoint that does not decode or fit:
    ///   another attempt would read the same bytes.
    private func restore(_ data: Data) throws -> (epoch: Int, curve: [Double]) {
        let restored: TrainingCheckpoint.Restored
        do {
            restored = try TrainingCheckpoint.restoreWithMetadata(data, parameters: model.namedParameters(), optimizer: optimizer)
        } catch let error as TaskError {
            throw error
        } catch {
            throw TaskError("nas trial: \(error)", retryable: false)
        }
        let (epoch, metadata) = (restored.step, restored.metadata)
        let curve = (metadata["orrery.dev_accuracy"] ?? "").split(separator: ",").compactMap { Double($0) }
        guard (0...Int(task.endEpoch) - 1).contains(epoch), curve.count == (task.final ? 0 : epoch) else {
            throw TaskError("nas trial: the checkpoint's epoch \(epoch) and its \(curve.count) dev scores do not fit this task", retryable: false)
        }
        return (epoch, curve)
    }
}
