import Collectives
import Foundation
import NN
import Tensor

/// The training loop `meta-learn` and `prompt-tune` share: every step has a fixed number of
/// slots (episodes, or micro-batches of examples) that the gang's members share out; each
/// slot's gradient is computed the same way whichever member runs it, the slots' gradients
/// (and a few statistics) are summed in fixed point (`FixedPointSum`, exact and
/// order-free), all-reduced, scaled, and given to the optimizer. One, two or three workers
/// therefore end with bit-identical parameters. Rank 0 commits checkpoints (parameters,
/// optimizer state, step), and a re-formed gang resumes from the last one.
struct ExactDataParallelLoop {
    /// The trained parameters, by name (the checkpoint's keys), in gradient order.
    let parameters: [(name: String, tensor: Tensor)]
    let optimizer: any Optimizer
    let steps: Int
    let slotsPerStep: Int
    /// Multiplies the summed gradient: 1/(examples or episodes per step).
    let gradientScale: Float
    /// Steps between checkpoints; 0 for none.
    let checkpointEvery: Int
    /// Kept in every checkpoint's metadata.
    let metadata: [String: String]
    /// The caller's own state, saved in every checkpoint and restored on resume.
    var companion: (any CheckpointCompanion)? = nil

    /// One slot's share: gradients in parameter order (nil: no gradient) and statistics
    /// that are summed with them (a loss, a count of correct answers).
    struct Contribution {
        var gradients: [Tensor?]
        var statistics: [Float]
    }

    /// Runs from the resumed step (or 0) to `steps`. `contribution(step, slot)` computes one
    /// slot; `afterStep(step, statistics)` sees each step's statistics, summed over every
    /// slot of the gang, on every member. Returns the step training started from.
    func run(
        statisticCount: Int, communicator: Communicator?, context: TaskContext,
        contribution: (_ step: Int, _ slot: Int) throws -> Contribution,
        afterStep: (_ step: Int, _ statistics: [Float]) throws -> Void
    ) throws -> Int {
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        let flat = FlatParameters(named: parameters)
        var start = 0
        if let resume = context.resume {
            let restored = try TrainingCheckpoint.restoreWithMetadata(resume.data, parameters: parameters, optimizer: optimizer)
            try companion?.restore(tensors: restored.kept, metadata: restored.metadata)
            start = restored.step
        } else if let communicator, world > 1 {
            // A seeded initialisation is identical on every rank already; the broadcast
            // makes that a guarantee rather than an assumption.
            var values = flat.gatherValues()
            try communicator.broadcast(&values, root: 0)
            try flat.scatterValues(values)
        }
        let mine = Segmentation(count: slotsPerStep, parts: world).segment(rank)
        let shapes = parameters.map(\.tensor.shape)
        for step in start..<steps {
            if step % 10 == 0 { try context.checkCancellation() }
            var sum = FixedPointSum(count: flat.count + statisticCount)
            for slot in mine {
                // A slot that differentiates the parameters directly adds to their leaves.
                parameters.forEach { $0.tensor.zeroGrad() }
                let share = try contribution(step, slot)
                sum.add(Self.flatten(share.gradients, shapes: shapes, then: share.statistics, count: flat.count + statisticCount))
            }
            if let communicator, world > 1 { try sum.allReduce(communicator) }
            let total = sum.floats()
            try flat.scatterGradients(total[..<flat.count].map { $0 * gradientScale })
            optimizer.step()
            try afterStep(step, Array(total[flat.count...]))
            if rank == 0, checkpointEvery > 0, (step + 1) % checkpointEvery == 0, step + 1 < steps {
                let data = try TrainingCheckpoint.encode(
                    parameters: parameters, optimizer: optimizer, step: step + 1,
                    metadata: metadata.merging(companion?.checkpointMetadata ?? [:]) { $1 }, kept: companion?.checkpointTensors ?? [])
                context.commitCheckpoint(TaskCheckpoint(step: step + 1, data: data))
            }
        }
        return start
    }

    /// Gradients laid end to end (zeros for a missing one) in one buffer of `count`
    /// values, then `extra`.
    static func flatten(_ tensors: [Tensor?], shapes: [Shape], then extra: [Float], count: Int) -> [Float] {
        var buffer = [Float]()
        buffer.reserveCapacity(count)
        for (tensor, shape) in zip(tensors, shapes) {
            if let tensor {
                tensor.storage.withUnsafeBufferPointer { buffer.append(contentsOf: $0) }
            } else {
                buffer.append(contentsOf: repeatElement(0, count: shape.count))
            }
        }
        buffer += extra
        return buffer
    }
}
