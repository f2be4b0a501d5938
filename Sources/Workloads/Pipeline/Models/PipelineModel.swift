import Tensor

/// Examples of one split, in order: a micro-batch, or a batch scored for evaluation.
struct PipelineBatch {
    enum Split { case train, test }
    let split: Split
    let indices: [Int]
}

/// A model as a chain of units that a pipeline cuts between: unit i's output is unit
/// i+1's input, and only that tensor crosses from one stage to the next. Every member of a
/// pipeline builds the whole model the same way (same seed, same file) and runs only its
/// stage's units; the model owns its data, so each stage makes what it needs of a batch
/// (the first its input, the last its labels, a transformer's every stage its padding mask)
/// from the example indices alone.
protocol PipelineModel: AnyObject {
    /// How many units the model has.
    var unitCount: Int { get }
    /// A short name for reports: "mlp", "minilm".
    var name: String { get }
    /// Trainable parameters of one unit, named as in the whole model (checkpoint keys).
    func parameters(ofUnit unit: Int) -> [(name: String, tensor: Tensor)]
    /// The input of unit 0 for `batch` (no gradient flows into it).
    func input(_ batch: PipelineBatch) throws -> Tensor
    /// The shape of unit `unit`'s input for `batch`: what the stage that starts there
    /// receives.
    func inputShape(ofUnit unit: Int, _ batch: PipelineBatch) -> Shape
    /// Runs one unit.
    func forward(unit: Int, _ x: Tensor, _ batch: PipelineBatch) throws -> Tensor
    /// Mean cross-entropy of the last unit's output over `batch`.
    func loss(_ output: Tensor, _ batch: PipelineBatch) throws -> Tensor
    /// How many of `batch`'s examples the last unit's output classifies correctly.
    func correct(_ output: Tensor, _ batch: PipelineBatch) throws -> Int
    /// Training examples and test examples available.
    var trainCount: Int { get }
    var testCount: Int { get }
}

extension PipelineModel {
    /// Runs `units` in order.
    func forward(units: Range<Int>, _ x: Tensor, _ batch: PipelineBatch) throws -> Tensor {
        var value = x
        for unit in units { value = try forward(unit: unit, value, batch) }
        return value
    }

    /// Every trainable parameter of `units`.
    func parameters(ofUnits units: Range<Int>) -> [(name: String, tensor: Tensor)] {
        units.flatMap { parameters(ofUnit: $0) }
    }

    /// Labels argmax-compared with logits [B, classes].
    static func countCorrect(logits: Tensor, labels: [Int]) throws -> Int {
        let predictions = try logits.argmax(axis: 1).scalars
        return zip(predictions, labels).filter { Int($0) == $1 }.count
    }
}
