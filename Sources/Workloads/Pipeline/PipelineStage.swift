import Collectives
import Foundation
import Runtime
import Tensor

/// One member's stage of a pipeline: runs a schedule's forwards and backwards on its
/// units, taking its inputs from the previous stage and its output gradients from the
/// next (point-to-point messages over the data plane), and leaving its parameters'
/// gradients, accumulated over the micro-batches in micro-batch order, in their leaves.
///
/// The last stage turns its output into the micro-batch's loss scaled by the micro-batch's
/// share of the global batch, so that the accumulated gradients are the global batch's.
final class PipelineStage {
    let model: any PipelineModel
    let units: Range<Int>
    let layout: PipelineLayout
    let communicator: Communicator?

    /// What one step cost this stage.
    struct StepRecord {
        /// Seconds spent computing (forwards, backwards, sending), not waiting.
        var busySeconds = 0.0
        /// Seconds from the step's start to the end of its last action.
        var wallSeconds = 0.0
        /// The most micro-batches whose activations were kept at once.
        var peakLiveMicroBatches = 0
        /// The most tensor memory (`Storage.liveBytes`) grew over its size at the step's start:
        /// the kept activations, tapes and received messages turned into tensors.
        var peakTensorGrowthBytes = 0
        /// Last stage: the sum of micro-batch losses × examples, and the examples.
        var lossSum = 0.0
        var examples = 0

        /// Adds a step's times to a run's, and keeps the larger peaks.
        mutating func absorb(_ step: StepRecord) {
            busySeconds += step.busySeconds
            wallSeconds += step.wallSeconds
            peakLiveMicroBatches = max(peakLiveMicroBatches, step.peakLiveMicroBatches)
            peakTensorGrowthBytes = max(peakTensorGrowthBytes, step.peakTensorGrowthBytes)
        }
    }

    init(model: any PipelineModel, units: Range<Int>, layout: PipelineLayout, communicator: Communicator?) {
        self.model = model
        self.units = units
        self.layout = layout
        self.communicator = communicator
    }

    /// Runs `actions` for step `step` on `microBatches`, each micro-batch's loss scaled by
    /// `scales[m]`. The weight gradients of every `weightGradientGroup` backwards are added
    /// in one product after the last of them has sent its input gradient upstream (1: each
    /// backward adds its own).
    func run(step: Int, actions: [PipelineAction], microBatches: [PipelineBatch], scales: [Float], weightGradientGroup: Int = 1) throws -> StepRecord {
        var record = StepRecord()
        var kept: [Int: (input: Tensor, output: Tensor)] = [:]
        let deferred = weightGradientGroup > 1 ? DeferredWeightGradients() : nil
        var deferredBackwards = 0
        let started = MonotonicClock.nanoseconds
        let tensorsAtStart = Storage.liveBytes
        for action in actions {
            switch action {
            case .forward(let m):
                let batch = microBatches[m]
                let input = try receiveInput(batch, key: PipelineMessage.activations.key(step: step, microBatch: m), requiringGrad: true)
                let busy = MonotonicClock.nanoseconds
                var output = try model.forward(units: units, input, batch)
                if layout.isLastStage {
                    let loss = try model.loss(output, batch)
                    record.lossSum += Double(loss.item) * Double(batch.indices.count)
                    record.examples += batch.indices.count
                    output = loss * scales[m]
                } else {
                    try send(output, to: layout.next!, key: PipelineMessage.activations.key(step: step, microBatch: m))
                }
                kept[m] = (input, output)
                record.busySeconds += Self.seconds(since: busy)
            case .backward(let m):
                guard let (input, output) = kept.removeValue(forKey: m) else {
                    throw TaskError("pipeline schedule runs the backward of micro-batch \(m) before its forward", retryable: false)
                }
                var seed: Tensor? = nil
                if let next = layout.next {
                    let values = try communicator!.receive(from: next, key: PipelineMessage.gradients.key(step: step, microBatch: m), count: output.count)
                    seed = try Tensor(values, shape: output.shape)
                }
                let busy = MonotonicClock.nanoseconds
                if output.requiresGrad {
                    if let deferred {
                        try deferred.during { () throws(TensorError) in try output.backward(seed: seed) }
                    } else {
                        try output.backward(seed: seed)
                    }
                }
                if let previous = layout.previous {
                    try send(input.grad ?? .zeros(input.shape), to: previous, key: PipelineMessage.gradients.key(step: step, microBatch: m))
                }
                deferredBackwards += 1
                if let deferred, deferredBackwards == weightGradientGroup {
                    try flush(deferred, into: &record, since: tensorsAtStart)
                    deferredBackwards = 0
                }
                record.busySeconds += Self.seconds(since: busy)
            }
            record.peakLiveMicroBatches = max(record.peakLiveMicroBatches, kept.count)
            record.peakTensorGrowthBytes = max(record.peakTensorGrowthBytes, Storage.liveBytes - tensorsAtStart)
        }
        if let deferred, !deferred.isEmpty {
            let busy = MonotonicClock.nanoseconds
            try flush(deferred, into: &record, since: tensorsAtStart)
            record.busySeconds += Self.seconds(since: busy)
        }
        record.wallSeconds = Self.seconds(since: started)
        return record
    }

    /// Adds the held-back weight products, counting the stacked copies they need at once
    /// in the step's peak tensor memory.
    private func flush(_ deferred: DeferredWeightGradients, into record: inout StepRecord, since start: Int) throws {
        record.peakTensorGrowthBytes = max(record.peakTensorGrowthBytes, Storage.liveBytes - start + deferred.flushBytes)
        try deferred.flush()
        record.peakTensorGrowthBytes = max(record.peakTensorGrowthBytes, Storage.liveBytes - start)
    }

    /// Runs `batches` forward only, without gradients; the last stage returns how many it
    /// classified correctly and the sum of its losses × examples, earlier stages zeros.
    func evaluate(round: Int, batches: [PipelineBatch]) throws -> (correct: Int, lossSum: Double) {
        try withNoGrad { () throws -> (Int, Double) in
            var correct = 0
            var lossSum = 0.0
            for (index, batch) in batches.enumerated() {
                let key = PipelineMessage.evaluation.key(step: round, microBatch: index)
                let output = try model.forward(units: units, try receiveInput(batch, key: key, requiringGrad: false), batch)
                if let next = layout.next {
                    try send(output, to: next, key: key)
                } else {
                    correct += try model.correct(output, batch)
                    lossSum += Double(try model.loss(output, batch).item) * Double(batch.indices.count)
                }
            }
            return (correct, lossSum)
        }
    }

    /// The first stage's input made from the batch, or a later stage's received from the
    /// previous one (a leaf, so that its gradient can be sent back).
    private func receiveInput(_ batch: PipelineBatch, key: UInt64, requiringGrad: Bool) throws -> Tensor {
        guard let previous = layout.previous else { return try model.input(batch) }
        let shape = model.inputShape(ofUnit: units.lowerBound, batch)
        let values = try communicator!.receive(from: previous, key: key, count: shape.count)
        let input = try Tensor(values, shape: shape)
        return requiringGrad ? input.requiringGrad() : input
    }

    private func send(_ tensor: Tensor, to peer: Int, key: UInt64) throws {
        var failure: CollectiveError?
        tensor.storage.withUnsafeBufferPointer { values in
            do throws(CollectiveError) {
                try communicator!.send(UnsafeBufferPointer(rebasing: values[0..<tensor.count]), to: peer, key: key)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    private static func seconds(since start: Int64) -> Double { Double(MonotonicClock.nanoseconds - start) / 1e9 }
}
