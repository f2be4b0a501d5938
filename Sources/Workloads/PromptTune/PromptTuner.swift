import Collectives
import Datasets
import Foundation
import NN
import Tensor
import Wire

/// Tunes one method on a problem's K-shot examples with Adam, data-parallel over the gang
/// (`ExactDataParallelLoop`: each step's `batch` examples are cut into micro-batches that
/// the members share out, and their gradients are summed exactly, so the tuned parameters
/// do not depend on the number of workers), then scores the test examples, shared out the
/// same way. Multi-task tuning is the same loop over the union of several problems'
/// examples, each scored by its own problem's method, all methods sharing one set of
/// parameters.
struct PromptTuner {
    /// One method per problem, sharing `parameters` (a single problem has one).
    let methods: [any TuningMethod]
    let steps: Int
    let batch: Int
    let microBatch: Int
    let learningRate: Float
    let seed: UInt64
    let checkpointEvery: Int
    let metadata: [String: String]

    /// - Parameter sharing: the same method on further problems, sharing its parameters.
    init(method: any TuningMethod, sharing others: [any TuningMethod] = [], task: Orrery_V1_Workloads_PromptTuneTask) {
        methods = [method] + others
        steps = Int(task.steps)
        batch = Int(task.batch)
        microBatch = Int(task.microBatch)
        learningRate = task.lr
        seed = task.seed
        checkpointEvery = Int(task.checkpointEvery)
        metadata = ["orrery.method": task.method, "orrery.variant": task.variant]
    }

    struct Summary {
        var finalLoss = 0.0
        var resumedAt = 0
        var seconds = 0.0
        var examplesPerSecond = 0.0
    }

    /// A training example and the problem (index into `methods`) it belongs to.
    struct Example {
        let text: String
        let label: Int
        let problem: Int
    }

    /// The examples of `sets` (one per method), in order.
    static func examples(_ sets: [LabeledText]) -> [Example] {
        sets.enumerated().flatMap { problem, set in zip(set.texts, set.targets).map { Example(text: $0, label: $1, problem: problem) } }
    }

    var parameters: [(name: String, tensor: Tensor)] { methods[0].parameters }

    /// Trains to `steps` (from the context's checkpoint, if any).
    func train(_ examples: [Example], communicator: Communicator?, context: TaskContext, progress: String) throws -> Summary {
        var summary = Summary()
        guard !parameters.isEmpty, steps > 0 else { return summary }
        let perStep = min(batch, examples.count)
        let order = EpochOrder(count: examples.count, seed: seed)
        let loop = ExactDataParallelLoop(
            parameters: parameters, optimizer: Adam(parameters: parameters.map(\.tensor), learningRate: learningRate),
            steps: steps, slotsPerStep: (perStep + microBatch - 1) / microBatch, gradientScale: 1 / Float(perStep),
            checkpointEvery: checkpointEvery, metadata: metadata)
        let started = Date()
        summary.resumedAt = try loop.run(statisticCount: 2, communicator: communicator, context: context) { step, slot in
            let first = slot * microBatch
            let rows = (first..<min(first + microBatch, perStep)).map { examples[order.index(step * perStep + $0)] }
            // A micro-batch's summed loss (the loop divides the step's sum by its examples),
            // each problem's rows scored by its own method.
            var loss: Tensor?
            var correct = 0
            for (problem, method) in methods.enumerated() {
                let mine = rows.filter { $0.problem == problem }
                guard !mine.isEmpty else { continue }
                let logits = try method.logits(mine.map(\.text))
                let part = try Tensor.crossEntropy(logits: logits, targets: mine.map(\.label)) * Float(mine.count)
                loss = try loss.map { try $0 + part } ?? part
                correct += zip(Self.predictions(logits), mine).filter { $0 == $1.label }.count
            }
            guard let loss else { return .init(gradients: parameters.map { _ in nil }, statistics: [0, 0]) }
            try loss.backward()
            return .init(gradients: parameters.map(\.tensor.grad), statistics: [loss.item, Float(correct)])
        } afterStep: { step, statistics in
            summary.finalLoss = Double(statistics[0]) / Double(perStep)
            if (communicator?.rank ?? 0) == 0, (step + 1) % max(1, steps / 10) == 0 || step + 1 == steps {
                context.record(step: step + 1, ["train/loss": summary.finalLoss, "train/batch_accuracy": Double(statistics[1]) / Double(perStep)])
                context.reportProgress(
                    Float(step + 1) / Float(steps),
                    String(format: "%@: step %d/%d, train loss %.4f, batch accuracy %.0f%%", progress, step + 1, steps,
                        summary.finalLoss, 100 * Double(statistics[1]) / Double(perStep)))
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.examplesPerSecond = Double((steps - summary.resumedAt) * perStep) / max(summary.seconds, 1e-9)
        return summary
    }

    /// Whether each test example is classified right by `logits`, scored in chunks that the
    /// gang's members share out and gathered exactly on every member.
    static func hits(
        _ test: LabeledText, chunk: Int, communicator: Communicator?, logits: ([String]) throws(TensorError) -> Tensor
    ) throws -> [Bool] {
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        let chunks = (test.count + chunk - 1) / chunk
        var sum = FixedPointSum(count: test.count)
        var mine = [Float](repeating: 0, count: test.count)
        for index in Segmentation(count: chunks, parts: world).segment(rank) {
            let rows = Array((index * chunk)..<min(test.count, (index + 1) * chunk))
            let predicted = try withNoGrad { () throws(TensorError) in try predictions(logits(rows.map { test.texts[$0] })) }
            for (row, prediction) in zip(rows, predicted) where prediction == test.targets[row] { mine[row] = 1 }
        }
        sum.add(mine)
        if let communicator, world > 1 { try sum.allReduce(communicator) }
        return sum.floats().map { $0 > 0.5 }
    }

    /// The argmax of each row of [B, classes].
    static func predictions(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1]
        let values = logits.scalars
        return (0..<logits.shape[0]).map { row in
            (0..<classes).max { values[row * classes + $0] < values[row * classes + $1] } ?? 0
        }
    }
}

/// The order examples are visited in: epoch after epoch, each a fresh seeded shuffle, so
/// the n-th example of training is the same on every worker and after every resume. The
/// current epoch's shuffle is kept, so a lookup costs nothing but at an epoch's start.
final class EpochOrder {
    let count: Int
    let seed: UInt64
    private var epoch = -1
    private var order: [Int] = []

    init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
    }

    /// The example at position `position` of the endless sequence of epochs.
    func index(_ position: Int) -> Int {
        if position / count != epoch {
            epoch = position / count
            order = PromptSearchSplits.shuffled(count, seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        }
        return order[position % count]
    }
}
