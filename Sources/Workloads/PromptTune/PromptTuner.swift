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
    /// Set when the examples carry a teacher's logits (distillation).
    let distillation: (temperature: Float, alpha: Float)?

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
        distillation = task.hasDistill && task.method != "teacher" ? (task.distill.temperature, task.distill.alpha) : nil
    }

    struct Summary {
        var finalLoss = 0.0
        var resumedAt = 0
        var seconds = 0.0
        var examplesPerSecond = 0.0
    }

    /// A training example and the problem (index into `methods`) it belongs to; a
    /// distilled one has its teacher's logits, and its label is the teacher's choice.
    struct Example {
        let text: String
        let label: Int
        let problem: Int
        var teacher: [Float]? = nil
    }

    /// The examples of `sets` (one per method), in order.
    static func examples(_ sets: [LabeledText]) -> [Example] {
        sets.enumerated().flatMap { problem, set in zip(set.texts, set.targets).map { Example(text: $0, label: $1, problem: problem) } }
    }

    /// Unlabeled texts with a teacher's logits (`texts.count` rows of `classes`).
    static func distilled(_ texts: [String], logits: [Float], classes: Int) -> [Example] {
        texts.indices.map { row in
            let values = Array(logits[(row * classes)..<((row + 1) * classes)])
            return Example(text: texts[row], label: values.indices.max { values[$0] < values[$1] } ?? 0, problem: 0, teacher: values)
        }
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
                let part = try microBatchLoss(logits, mine) * Float(mine.count)
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

    /// A micro-batch's mean loss: cross-entropy on the labels, or distillation from the
    /// teacher's logits when the examples carry them.
    private func microBatchLoss(_ logits: Tensor, _ rows: [Example]) throws(TensorError) -> Tensor {
        guard let distillation, rows.allSatisfy({ $0.teacher != nil }) else {
            return try Tensor.crossEntropy(logits: logits, targets: rows.map(\.label))
        }
        let teacher = try Tensor(rows.flatMap { $0.teacher! }, shape: logits.shape)
        return try KnowledgeDistillation.loss(
            student: logits, teacher: teacher, targets: rows.map(\.label), temperature: distillation.temperature, alpha: distillation.alpha)
    }

    /// Whether each test example is classified right by `logits` [texts, classes], scored
    /// in chunks that the gang's members share out and gathered exactly on every member; and
    /// the texts per second this member scored its share at.
    static func scored(
        _ test: LabeledText, classes: Int, chunk: Int, communicator: Communicator?, logits: ([String]) throws(TensorError) -> Tensor
    ) throws -> (hits: [Bool], textsPerSecond: Double) {
        let (all, rate) = try gathered(test.texts, classes: classes, chunk: chunk, communicator: communicator, logits: logits)
        let predicted = try predictions(Tensor(all, shape: [test.count, classes]))
        return (zip(predicted, test.targets).map { $0 == $1 }, rate)
    }

    /// The logits [texts.count × classes] of every text, row by row, computed in chunks
    /// that the gang's members share out and gathered on every member (in fixed point, so
    /// every member holds the same bits whatever the gang's size); and the texts per second
    /// this member computed its share at.
    static func gathered(
        _ texts: [String], classes: Int, chunk: Int, communicator: Communicator?, logits: ([String]) throws(TensorError) -> Tensor
    ) throws -> (logits: [Float], textsPerSecond: Double) {
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        let chunks = (texts.count + chunk - 1) / chunk
        var mine = [Float](repeating: 0, count: texts.count * classes)
        var scored = 0
        let started = Date()
        for index in Segmentation(count: chunks, parts: world).segment(rank) {
            let range = (index * chunk)..<min(texts.count, (index + 1) * chunk)
            let values = try withNoGrad { () throws(TensorError) in try logits(Array(texts[range])) }
            guard values.shape == Shape([range.count, classes]) else {
                throw TensorError(.shapeMismatch(operation: "scoring texts", values.shape, Shape([range.count, classes])))
            }
            mine.replaceSubrange((range.lowerBound * classes)..<(range.upperBound * classes), with: values.scalars)
            scored += range.count
        }
        let seconds = Date().timeIntervalSince(started)
        var sum = FixedPointSum(count: mine.count)
        sum.add(mine)
        if let communicator, world > 1 { try sum.allReduce(communicator) }
        return (sum.floats(), seconds > 0 ? Double(scored) / seconds : 0)
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
