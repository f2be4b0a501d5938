import Datasets
import NN
import Tensor

/// A classifier's accuracy and mean cross-entropy over a split (or the examples of it at
/// `indices`), in evaluation mode and without recording gradients: what `train` reports
/// after each epoch and a NAS trial reports on its dev split.
enum ClassifierEvaluation {
    /// Images scored at once.
    static let batchSize = 1000

    static func evaluate(_ model: some Layer, on data: LabeledImages, indices: [Int]? = nil) throws -> (accuracy: Double, loss: Double) {
        model.train(false)
        defer { model.train(true) }
        let examples = indices ?? Array(0..<data.count)
        guard !examples.isEmpty else { return (0, 0) }
        return try withNoGrad { () throws -> (Double, Double) in
            var correct = 0
            var loss: Double = 0
            for start in stride(from: 0, to: examples.count, by: batchSize) {
                let batch = examples[start..<min(examples.count, start + batchSize)]
                let (images, labels) = data.batch(batch)
                let logits = try model(images)
                loss += Double(try Tensor.crossEntropy(logits: logits, targets: labels).item) * Double(batch.count)
                let predictions = try logits.argmax(axis: 1).scalars
                correct += zip(predictions, labels).filter { Int($0) == $1 }.count
            }
            return (Double(correct) / Double(examples.count), loss / Double(examples.count))
        }
    }
}
