import Collectives
import Datasets
import Foundation
import NN
import Runtime
import Tensor
import Wire

/// Trains a `PipelineModel` as one member of a pipeline gang (or alone, with one stage):
/// forms the pipeline (connections, partition), runs every step's schedule on this
/// member's stage, sums each stage's gradients over its replicas, steps one optimizer per
/// unit, gathers checkpoints to rank 0, and scores the test split through the pipeline.
///
/// Every member draws the same seeded global batches; a replica takes its contiguous share
/// of each and cuts it into `micro_batches` contiguous micro-batches. Each micro-batch's loss
/// is scaled by its share of the global batch, so the gradients accumulated over a step's
/// micro-batches and summed over replicas are the global batch's gradient: the weights
/// follow single-process training of the whole model on the whole batch.
struct PipelineTrainer {
    let task: Orrery_V1_Workloads_PipelineTask
    let model: any PipelineModel

    /// One member's fixed parts for a run: where it sits, what it runs, what it trains.
    struct Member {
        let layout: PipelineLayout
        let communicator: Communicator?
        let stage: PipelineStage
        let flat: FlatParameters
        let parameters: [(name: String, tensor: Tensor)]
        let optimizers: [Int: any Optimizer]
        let actions: [PipelineAction]
        /// Micro-batches whose weight gradients are added in one product.
        let weightGradientGroup: Int
    }

    func run(context: TaskContext) throws -> TaskOutput {
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }
        let world = communicator?.worldSize ?? 1
        let (stages, replicas) = (Int(task.stages), Int(task.replicas))
        guard world == stages * replicas else {
            throw TaskError("pipeline task: \(stages) stage(s) × \(replicas) replica(s) need a gang of \(stages * replicas), this one has \(world)", retryable: false)
        }
        let layout = PipelineLayout(stages: stages, replicas: replicas, rank: communicator?.rank ?? 0)
        if let communicator {
            try communicator.connect(to: [layout.previous, layout.next, 0].compactMap { $0 } + layout.replicaGroup)
            try communicator.barrier()
            // Activations, gradients and replica sums go through shared memory between
            // members on one host.
            try communicator.openSharedChannels(with: [layout.previous, layout.next].compactMap { $0 } + layout.replicaGroup)
        }
        let partition = try self.partition(layout: layout, communicator: communicator)
        let units = partition.units(ofStage: layout.stage)
        let optimizers = makeOptimizers(units)
        let checkpoint = PipelineCheckpoint(model: model, units: units, optimizers: optimizers)
        let firstStep = try context.resume.map { try checkpoint.restore($0.data) } ?? 0
        let parameters = model.parameters(ofUnits: units)
        let schedule = PipelineSchedule(rawValue: task.schedule)!
        let member = Member(
            layout: layout, communicator: communicator,
            stage: PipelineStage(model: model, units: units, layout: layout, communicator: communicator),
            flat: FlatParameters(named: parameters), parameters: parameters, optimizers: optimizers,
            actions: schedule.actions(stage: layout.stage, stages: stages, microBatches: Int(task.microBatches)),
            weightGradientGroup: task.immediateWeightGradients ? 1 : schedule.weightGradientGroup(microBatches: Int(task.microBatches)))

        let batchSize = Int(task.batchSize)
        let examples = task.trainLimit > 0 ? min(Int(task.trainLimit), model.trainCount) : model.trainCount
        let stepsPerEpoch = examples / batchSize
        guard stepsPerEpoch > 0 else {
            throw TaskError("pipeline task: batch_size \(batchSize) exceeds the \(examples) training examples", retryable: false)
        }
        let totalSteps = task.maxSteps > 0 ? min(Int(task.maxSteps), stepsPerEpoch * Int(task.epochs)) : stepsPerEpoch * Int(task.epochs)
        var totals = PipelineStage.StepRecord()
        var trained = 0
        var trainingSeconds = 0.0
        var step = 0
        var lastEpochLoss = (sum: 0.0, examples: 0)
        var evaluations: [(epoch: Int, correct: Int, lossSum: Double)] = []
        var gatherRound = 0
        for epoch in 0..<Int(task.epochs) where step < totalSteps {
            lastEpochLoss = (0, 0)
            let sampler = BatchSampler(count: examples, batchSize: batchSize, shuffle: true, seed: task.seed, epoch: epoch, dropLast: true)
            for indices in sampler {
                if step >= totalSteps { break }
                if step < firstStep {
                    step += 1
                    continue
                }
                try context.checkCancellation()
                let started = MonotonicClock.nanoseconds
                let record = try train(indices, step: step, member)
                trainingSeconds += Double(MonotonicClock.nanoseconds - started) / 1e9
                trained += 1
                totals.absorb(record)
                lastEpochLoss.sum += record.lossSum
                lastEpochLoss.examples += record.examples
                if task.checkpointEvery > 0, (step + 1) % Int(task.checkpointEvery) == 0, step + 1 < totalSteps {
                    gatherRound += 1
                    if let data = try checkpoint.gather(layout: layout, communicator: communicator, round: gatherRound, step: step + 1, metadata: ["orrery.model": model.name]) {
                        context.commitCheckpoint(TaskCheckpoint(step: step + 1, data: data))
                    }
                }
                if layout.rank == 0, step % 10 == 0 {
                    context.reportProgress(Float(step + 1) / Float(max(1, totalSteps)), "step \(step + 1)/\(totalSteps)")
                }
                step += 1
            }
            // Epochs a resumed run skipped whole were scored by the attempt that ran them.
            if step > firstStep, task.evaluateEachEpoch || step >= totalSteps || epoch == Int(task.epochs) - 1 {
                let (correct, lossSum) = try member.stage.evaluate(round: epoch, batches: testBatches(layout))
                evaluations.append((epoch + 1, correct, lossSum))
            }
        }
        gatherRound += 1
        let final = try checkpoint.gather(layout: layout, communicator: communicator, round: gatherRound, step: step, metadata: ["orrery.model": model.name])
        return try summarize(
            layout: layout, communicator: communicator, partition: partition, totals: totals, steps: trained, seconds: trainingSeconds,
            trainLoss: lastEpochLoss, evaluations: evaluations, firstStep: firstStep, final: final, context: context)
    }

    /// One optimizer step: this replica's share of the global batch `indices`, cut into
    /// micro-batches, through the schedule; this stage's gradients summed over its
    /// replicas; every unit's optimizer steps.
    private func train(_ indices: [Int], step: Int, _ member: Member) throws -> PipelineStage.StepRecord {
        let (layout, replicas) = (member.layout, Int(task.replicas))
        let share = Array(indices[Segmentation(count: indices.count, parts: replicas).segment(layout.replica)])
        let cuts = Segmentation(count: share.count, parts: Int(task.microBatches))
        let microBatches = (0..<Int(task.microBatches)).map { PipelineBatch(split: .train, indices: Array(share[cuts.segment($0)])) }
        let scales = microBatches.map { Float($0.indices.count) / Float(indices.count) }
        member.parameters.forEach { $0.tensor.zeroGrad() }
        let record = try member.stage.run(
            step: step, actions: member.actions, microBatches: microBatches, scales: scales, weightGradientGroup: member.weightGradientGroup)
        if replicas > 1, let communicator = member.communicator {
            var gradients = member.flat.gatherGradients()
            try communicator.allReduce(&gradients, among: layout.replicaGroup, key: PipelineMessage.gradientSum.key(step: step))
            try member.flat.scatterGradients(gradients)
        }
        member.optimizers.values.forEach { $0.step() }
        return record
    }

    /// The partition the task names, or one balanced from unit costs measured on rank 0 and
    /// broadcast, so that every member cuts the model the same way.
    private func partition(layout: PipelineLayout, communicator: Communicator?) throws -> StagePartition {
        if !task.unitsPerStage.isEmpty { return StagePartition(unitsPerStage: task.unitsPerStage.map(Int.init)) }
        var costs = [Float](repeating: 0, count: model.unitCount)
        if layout.rank == 0 {
            let size = max(1, Int(task.batchSize) / Int(task.replicas) / Int(task.microBatches))
            let probe = PipelineBatch(split: .train, indices: Array(0..<min(size, model.trainCount)))
            costs = try UnitCostProbe.measure(model, batch: probe).map(Float.init)
        }
        if let communicator, communicator.worldSize > 1 { try communicator.broadcast(&costs, root: 0) }
        return StagePartition.balanced(costs: costs.map(Double.init), stages: Int(task.stages))
    }

    /// One optimizer per unit with trainable parameters (state keyed by unit, see
    /// `PipelineCheckpoint`).
    private func makeOptimizers(_ units: Range<Int>) -> [Int: any Optimizer] {
        var optimizers: [Int: any Optimizer] = [:]
        for unit in units {
            let parameters = model.parameters(ofUnit: unit).map(\.tensor)
            guard !parameters.isEmpty else { continue }
            // The task's rules admitted only known names.
            optimizers[unit] = OptimizerChoice.make(
                task.optimizer, parameters: parameters, learningRate: task.learningRate, momentum: task.momentum, weightDecay: task.weightDecay)
        }
        return optimizers
    }

    /// This replica's share of the test split, in batches.
    private func testBatches(_ layout: PipelineLayout) -> [PipelineBatch] {
        let count = task.testLimit > 0 ? min(Int(task.testLimit), model.testCount) : model.testCount
        let mine = Segmentation(count: count, parts: layout.replicas).segment(layout.replica)
        let size = model.name == "minilm" ? 32 : 500
        return stride(from: mine.lowerBound, to: mine.upperBound, by: size).map {
            PipelineBatch(split: .test, indices: Array($0..<min(mine.upperBound, $0 + size)))
        }
    }
}
