import Collectives
import Datasets
import Foundation
import NN
import Tensor
import Wire

/// The outer loop: each meta-step draws a meta-batch of episodes by index, splits them
/// across the gang, sums their meta-gradients in fixed point (`FixedPointSum`, exact
/// across any number of workers), averages, and takes an Adam step on the meta-parameters.
/// Rank 0 commits checkpoints (meta-parameters, Adam's state, the step); a re-formed gang
/// resumes from the last one and ends with the same meta-parameters as an undisturbed run.
struct MetaTrainer {
    let task: Orrery_V1_Workloads_MetaLearnTask
    let algorithm: any MetaAlgorithm
    let parameters: [Tensor]
    let optimizer: Adam

    init(task: Orrery_V1_Workloads_MetaLearnTask, algorithm: any MetaAlgorithm) {
        self.task = task
        self.algorithm = algorithm
        var generator = SplitMix64(seed: task.seed)
        parameters = algorithm.initialParameters(using: &generator)
        optimizer = Adam(parameters: parameters, learningRate: task.outerLr)
    }

    var named: [(name: String, tensor: Tensor)] { Array(zip(algorithm.parameterNames, parameters)) }

    /// What meta-training ends with, for the report.
    struct Summary {
        var queryLoss: Double = 0
        var queryAccuracy: Double = 0
        var resumedAt = 0
        var seconds: Double = 0
        var episodesPerSecond: Double = 0
    }

    /// Meta-trains to `meta_steps` (from a checkpoint when the context has one). With
    /// `validation`, the meta-parameters end as the best it scored, not the last.
    func train(_ sampler: EpisodeSampler, communicator: Communicator?, context: TaskContext, validation: MetaValidation? = nil) throws -> Summary {
        let metaBatch = Int(task.metaBatch), steps = Int(task.metaSteps)
        let loop = ExactDataParallelLoop(
            parameters: named, optimizer: optimizer, steps: steps, slotsPerStep: metaBatch, gradientScale: 1 / Float(metaBatch),
            checkpointEvery: Int(task.checkpointEvery), metadata: ["orrery.algorithm": task.algorithm], companion: validation)
        var summary = Summary()
        let started = Date()
        var window = MetaStepWindow(steps: steps, metaBatch: metaBatch)
        let rank = communicator?.rank ?? 0
        // Time spent scoring meta-validation, left out of the meta-training rate.
        var validationSeconds = 0.0
        // Step 0 is a candidate too (for a residual network: the pretrained features as
        // they are). A resumed run has its scorings from the checkpoint.
        if let validation, context.resume == nil {
            validationSeconds += try record(validation, completed: 0, rank: rank, context: context)
        }
        // Each episode's gradients, then its query loss and accuracy, in one exact sum.
        summary.resumedAt = try loop.run(statisticCount: 2, communicator: communicator, context: context) { step, slot in
            let episode = sampler.episode(seed: task.seed, index: step * metaBatch + slot)
            let share = try algorithm.metaGradient(episode, parameters: parameters)
            return .init(gradients: share.gradients, statistics: [share.queryLoss, share.queryAccuracy])
        } afterStep: { step, statistics in
            if let validation, validation.isDue(afterStep: step, of: steps) {
                validationSeconds += try record(validation, completed: step + 1, rank: rank, context: context)
            }
            guard window.add(step: step, statistics: statistics) else { return }
            (summary.queryLoss, summary.queryAccuracy) = (window.queryLoss, window.queryAccuracy)
            if (communicator?.rank ?? 0) == 0 {
                context.record(step: step + 1, ["query/loss": window.queryLoss, "query/accuracy": window.queryAccuracy])
                context.reportProgress(Float(step + 1) / Float(steps), window.note(step: step, after: "adaptation", workers: communicator?.worldSize ?? 1))
            }
        }
        validation?.restoreBest(into: parameters)
        summary.seconds = Date().timeIntervalSince(started)
        summary.episodesPerSecond = Double((steps - summary.resumedAt) * metaBatch) / max(summary.seconds - validationSeconds, 1e-9)
        return summary
    }

    /// One meta-validation scoring (every member takes part: it is a collective); returns
    /// the seconds it took.
    private func record(_ validation: MetaValidation, completed: Int, rank: Int, context: TaskContext) throws -> Double {
        let started = Date()
        let accuracy = try validation.evaluate(completed: completed, parameters: parameters)
        if rank == 0 { context.record(step: completed, ["validation/accuracy": accuracy]) }
        return Date().timeIntervalSince(started)
    }
}
