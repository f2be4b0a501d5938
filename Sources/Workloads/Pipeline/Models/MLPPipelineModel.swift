import Datasets
import NN
import Tensor

/// A deep MLP on an image data set, one unit per Linear layer (with the activation after
/// it, none after the last): the model whose stages are plain matrix products, for
/// measuring the pipeline itself. Weights come from the seed, identically on every member.
final class MLPPipelineModel: PipelineModel {
    let train: LabeledImages
    let test: LabeledImages
    /// Each unit: Linear, then the activation (nil for the last).
    private let units: [(linear: Linear, activation: Activation?)]

    init(train: LabeledImages, test: LabeledImages, hidden: [Int], activation: Activation.Kind, seed: UInt64) {
        self.train = train
        self.test = test
        var generator = SplitMix64(seed: seed)
        let sizes = [train.imageShape.reduce(1, *)] + hidden + [train.classes]
        units = (0..<(sizes.count - 1)).map { index in
            (Linear(sizes[index], sizes[index + 1], using: &generator), index < sizes.count - 2 ? Activation(activation) : nil)
        }
    }

    var name: String { "mlp" }
    var unitCount: Int { units.count }
    var trainCount: Int { train.count }
    var testCount: Int { test.count }

    /// Named as `Sequential` would name them (`0.weight`, `2.weight`: activations count as
    /// positions), so a saved model loads where an `MLP` of the same widths does.
    func parameters(ofUnit unit: Int) -> [(name: String, tensor: Tensor)] {
        Linear.prefixed(String(2 * unit), units[unit].linear.namedParameters())
    }

    private func data(_ batch: PipelineBatch) -> LabeledImages { batch.split == .train ? train : test }

    func input(_ batch: PipelineBatch) throws -> Tensor { data(batch).batch(batch.indices).images }

    func inputShape(ofUnit unit: Int, _ batch: PipelineBatch) -> Shape {
        [batch.indices.count, units[unit].linear.weight.shape[1]]
    }

    func forward(unit: Int, _ x: Tensor, _ batch: PipelineBatch) throws -> Tensor {
        let y = try units[unit].linear(x)
        return try units[unit].activation.map { (activation) throws(TensorError) in try activation(y) } ?? y
    }

    func loss(_ output: Tensor, _ batch: PipelineBatch) throws -> Tensor {
        try Tensor.crossEntropy(logits: output, targets: batch.indices.map { data(batch).labels[$0] })
    }

    func correct(_ output: Tensor, _ batch: PipelineBatch) throws -> Int {
        try Self.countCorrect(logits: output, labels: batch.indices.map { data(batch).labels[$0] })
    }
}
