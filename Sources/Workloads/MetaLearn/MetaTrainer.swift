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

    /// Meta-trains to `meta_steps` (from a checkpoint when the context has one).
    func train(_ sampler: EpisodeSampler, communicator: Communicator?, context: TaskContext) throws -> Summary {
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        let flat = FlatParameters(named: named)
        var summary = Summary()
        if let resume = context.resume {
            summary.resumedAt = try TrainingCheckpoint.restore(resume.data, parameters: named, optimizer: optimizer)
        } else if let communicator, world > 1 {
            // Seeded initialisation is identical on every rank already; the broadcast makes
            // that a guarantee rather than an assumption.
            var values = flat.gatherValues()
            try communicator.broadcast(&values, root: 0)
            try flat.scatterValues(values)
        }
        let metaBatch = Int(task.metaBatch), steps = Int(task.metaSteps)
        let mine = Segmentation(count: metaBatch, parts: world).segment(rank)
        let started = Date()
        var recent = (loss: 0.0, accuracy: 0.0, steps: 0)
        for step in summary.resumedAt..<steps {
            if step % 10 == 0 { try context.checkCancellation() }
            // The last step's averaged gradient is still in the leaves: an algorithm that
            // differentiates the meta-parameters directly (protonet, anil) would add to it.
            parameters.forEach { $0.zeroGrad() }
            // Gradients, then the episode's query loss and accuracy, in one exact sum.
            var sum = FixedPointSum(count: flat.count + 2)
            for slot in mine {
                let episode = sampler.episode(seed: task.seed, index: step * metaBatch + slot)
                let contribution = try algorithm.metaGradient(episode, parameters: parameters)
                sum.add(Self.flatten(contribution.gradients, then: [contribution.queryLoss, contribution.queryAccuracy], count: flat.count + 2))
            }
            if let communicator, world > 1 { try sum.allReduce(communicator) }
            let total = sum.floats()
            let scale = 1 / Float(metaBatch)
            try flat.scatterGradients(total[..<flat.count].map { $0 * scale })
            optimizer.step()
            recent.loss += Double(total[flat.count]) / Double(metaBatch)
            recent.accuracy += Double(total[flat.count + 1]) / Double(metaBatch)
            recent.steps += 1
            if (step + 1) % max(1, steps / 20) == 0 || step + 1 == steps {
                summary.queryLoss = recent.loss / Double(recent.steps)
                summary.queryAccuracy = recent.accuracy / Double(recent.steps)
                recent = (0, 0, 0)
                if rank == 0 {
                    context.reportProgress(
                        Float(step + 1) / Float(steps),
                        String(format: "meta-step %d/%d: query loss %.4f, query accuracy %.2f%% after adaptation%@", step + 1, steps,
                            summary.queryLoss, 100 * summary.queryAccuracy, world > 1 ? " (\(world) workers)" : ""))
                }
            }
            if rank == 0, task.checkpointEvery > 0, (step + 1) % Int(task.checkpointEvery) == 0, step + 1 < steps {
                context.commitCheckpoint(TaskCheckpoint(
                    step: step + 1,
                    data: try TrainingCheckpoint.encode(parameters: named, optimizer: optimizer, step: step + 1, metadata: ["orrery.algorithm": task.algorithm])))
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.episodesPerSecond = Double((steps - summary.resumedAt) * metaBatch) / max(summary.seconds, 1e-9)
        return summary
    }

    /// Tensors laid end to end in one buffer of `count` values, then `extra`.
    static func flatten(_ tensors: [Tensor], then extra: [Float], count: Int) -> [Float] {
        var buffer = [Float]()
        buffer.reserveCapacity(count)
        for tensor in tensors { tensor.storage.withUnsafeBufferPointer { buffer.append(contentsOf: $0) } }
        buffer += extra
        return buffer
    }
}
