import Datasets
import Foundation
import NN
import Tensor
import Wire

/// A classifier a `train` job saved (`save:`), rebuilt from the same spec and its
/// weights file, with the test split it was scored on: what `orrery explain --spec`
/// attributes pixel by pixel.
public struct TrainedClassifier {
    public let model: Sequential
    public let test: LabeledImages

    /// - Throws: `SpecError` for a spec that is not valid, `TaskError` for one that is not a
    ///   `train` job or data that cannot be loaded, `TensorError` for weights that do not
    ///   fit the model the spec describes (a name or shape named).
    public static func load(specYAML: String, source: String, weights path: String) throws -> TrainedClassifier {
        let job = try JobSpec.parse(yaml: specYAML, source: source, registry: .builtIn)
        guard job.spec.workload.kind == "train", let first = job.planner.start().first else {
            throw TaskError("\(source) is a \(job.spec.workload.kind) job; explaining pixels needs the train spec the weights came from", retryable: false)
        }
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_TrainTask.self, from: first.payload)
        try TrainTaskRules.validate(task)
        let (_, test) = try DatasetCatalog.load(task.dataset)
        let trainer = try ClassifierTrainer(task: task, imageShape: test.imageShape, classes: test.classes)
        try Safetensors.load(path, into: trainer.model)
        trainer.model.train(false)
        trainer.model.setFrozen(true)
        return TrainedClassifier(model: trainer.model, test: test)
    }

    /// Integrated gradients of the log-probability of `classIndex` (the predicted class by
    /// default) for test image `index`, from a black image, refined until the attributions
    /// add up within `tolerance` (nil: `steps` as given).
    /// - Throws: `TaskError` for an index or class out of range.
    public func explain(image index: Int, classIndex: Int? = nil, steps: Int = 64, tolerance: Float? = 0.01) throws -> PixelAttribution {
        guard test.count > 0, (0..<test.count).contains(index) else {
            throw TaskError("image \(index) is not in the test split (0..<\(test.count))", retryable: false)
        }
        let image = test.batch([index]).images
        let probabilities = try withNoGrad { () throws(TensorError) in try model(image).softmax().scalars }
        let explained = classIndex ?? probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        guard probabilities.indices.contains(explained) else {
            throw TaskError("class \(explained) is not one of the model's \(probabilities.count)", retryable: false)
        }
        let attribution = try IntegratedGradients.attribute(
            image, baseline: Tensor.zeros(image.shape), steps: steps, tolerance: tolerance, maximumSteps: 4096
        ) { (batch) throws(TensorError) in
            try model(batch).logSoftmax().sliced(axis: 1, explained..<(explained + 1)).reshaped(to: [batch.shape[0]])
        }
        return PixelAttribution(
            imageShape: test.imageShape, pixels: image.scalars, attributions: attribution.values.scalars, probabilities: probabilities,
            classIndex: explained, label: test.labels[index], score: attribution.score, completenessGap: attribution.completenessGap,
            steps: attribution.steps)
    }
}

/// Which pixels of one image moved a classifier toward a class, and by how much.
public struct PixelAttribution: Sendable, Encodable {
    /// [channels, height, width] or [height, width] as the data set gives it.
    public let imageShape: [Int]
    public let pixels: [Float]
    /// One per pixel, summing (within `completenessGap`) to the class's log-probability
    /// at the image minus at a black image.
    public let attributions: [Float]
    public let probabilities: [Float]
    public let classIndex: Int
    /// The image's true class.
    public let label: Int
    public let score: Float
    public let completenessGap: Float?
    public let steps: Int
}
