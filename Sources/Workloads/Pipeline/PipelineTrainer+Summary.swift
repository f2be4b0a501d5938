import Collectives
import Foundation
import NN
import Tensor

extension PipelineTrainer {
    /// Every member's counters: busy seconds, wall seconds, peak live micro-batches, peak
    /// tensor memory growth (bytes).
    private static let counterCount = 4

    /// Brings every member's counters and the last stages' scores to rank 0, which returns
    /// the job's metrics (and saves the model) and records the test curve (per evaluated
    /// epoch: the scores live on the last stages until now); other members return only
    /// their rank.
    func summarize(
        layout: PipelineLayout, communicator: Communicator?, partition: StagePartition, totals: PipelineStage.StepRecord, steps: Int,
        seconds: Double, trainLoss: (sum: Double, examples: Int), evaluations: [(epoch: Int, correct: Int, lossSum: Double)],
        firstStep: Int, final: Data?, context: TaskContext
    ) throws -> TaskOutput {
        let counters = [totals.busySeconds, totals.wallSeconds, Double(totals.peakLiveMicroBatches), Double(totals.peakTensorGrowthBytes)]
        // Scores: train loss sum, train examples, then (correct, loss sum) per evaluation.
        let scores = [trainLoss.sum, Double(trainLoss.examples)] + evaluations.flatMap { [Double($0.correct), $0.lossSum] }
        let world = layout.stages * layout.replicas
        if layout.rank != 0 {
            try communicator!.send(counters.map(Float.init), to: 0, key: PipelineMessage.summary.key(step: 0))
            if layout.isLastStage { try communicator!.send(Self.wide(scores), to: 0, key: PipelineMessage.scores.key(step: 0)) }
            return TaskOutput(metrics: ["rank": Double(layout.rank)])
        }
        var perRank = [counters]
        for rank in 1..<world {
            perRank.append(try communicator!.receive(from: rank, key: PipelineMessage.summary.key(step: 0), count: Self.counterCount).map(Double.init))
        }
        var summed = [Double](repeating: 0, count: scores.count)
        for replica in 0..<layout.replicas {
            let last = layout.rank(stage: layout.stages - 1, replica: replica)
            let theirs = last == 0 ? scores : Self.narrow(try communicator!.receive(from: last, key: PipelineMessage.scores.key(step: 0), count: 2 * scores.count))
            for index in summed.indices { summed[index] += theirs[index] }
        }
        let tested = task.testLimit > 0 ? min(Int(task.testLimit), model.testCount) : model.testCount
        var metrics: [String: Double] = [
            "stages": Double(layout.stages), "replicas": Double(layout.replicas), "micro_batches": Double(task.microBatches),
            "steps": Double(steps), "resumed_at_step": Double(firstStep), "seconds": seconds,
            "samples_per_second": Double(steps) * Double(task.batchSize) / max(seconds, 1e-9),
            "train_loss": summed[0] / max(1, summed[1]), "test_examples": Double(tested),
            "ideal_bubble": PipelineSchedule.idealBubble(stages: layout.stages, microBatches: Int(task.microBatches)),
            "parameters": Double(model.parameters(ofUnits: 0..<model.unitCount).reduce(0) { $0 + $1.tensor.count }),
        ]
        var epochAccuracies: [String] = []
        for (index, evaluation) in evaluations.enumerated() {
            let accuracy = summed[2 + 2 * index] / Double(max(1, tested))
            epochAccuracies.append(String(format: "%d:%.4f", evaluation.epoch, accuracy))
            metrics["test_accuracy"] = accuracy
            metrics["test_loss"] = summed[3 + 2 * index] / Double(max(1, tested))
            context.record(step: evaluation.epoch, ["test/accuracy": accuracy, "test/loss": metrics["test_loss"]!])
        }
        var bubbles: [Double] = []
        for stage in 0..<layout.stages {
            let members = (0..<layout.replicas).map { perRank[layout.rank(stage: stage, replica: $0)] }
            let busy = members.reduce(0) { $0 + $1[0] }, wall = members.reduce(0) { $0 + $1[1] }
            let bubble = wall > 0 ? max(0, 1 - busy / wall) : 0
            bubbles.append(bubble)
            metrics["bubble_stage\(stage)"] = bubble
            metrics["peak_live_stage\(stage)"] = members.map { $0[2] }.max()!
            metrics["peak_tensor_mb_stage\(stage)"] = members.map { $0[3] }.max()! / 1_048_576
        }
        metrics["bubble"] = bubbles.reduce(0, +) / Double(bubbles.count)
        if !task.savePath.isEmpty, let final {
            try Safetensors.save(try PipelineCheckpoint.modelTensors(final), to: task.savePath, metadata: ["orrery.model": model.name])
        }
        let details = ["partition": partition.description, "schedule": task.schedule, "model": model.name, "dataset": task.dataset,
                       "accuracy_by_epoch": epochAccuracies.joined(separator: " ")]
        return TaskOutput(metrics: metrics, payload: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]))
    }

    /// Doubles as pairs of floats (high part, remainder), so that sums of thousands of
    /// losses survive the float-only wire exactly enough.
    private static func wide(_ values: [Double]) -> [Float] {
        values.flatMap { value -> [Float] in
            let high = Float(value)
            return [high, Float(value - Double(high))]
        }
    }

    private static func narrow(_ values: [Float]) -> [Double] {
        stride(from: 0, to: values.count, by: 2).map { Double(values[$0]) + Double(values[$0 + 1]) }
    }
}
