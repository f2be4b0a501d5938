import Foundation
import Tensor

/// Early stopping on meta-validation: the meta-parameters are scored on the same
/// meta-validation episodes before meta-training, every `every` meta-steps and after the
/// last, and the best scored so far are kept; meta-test then scores the kept ones. A
/// meta-learner that overfits its meta-train classes (the text benchmark's MLPs reached 99%
/// query accuracy on meta-train and 43% on meta-test) is thereby stopped where held-out
/// classes were served best, chosen without looking at meta-test.
///
/// The record rides in every checkpoint (`CheckpointCompanion`), so a gang resumed after a
/// kill chooses exactly as an undisturbed one. The score is computed on every member from
/// the same all-reduced episode accuracies, so every member keeps the same step.
final class MetaValidation: CheckpointCompanion {
    let every: Int
    /// The meta-parameters' shapes: what a checkpoint's kept copy must match.
    private let shapes: [Shape]
    /// Mean accuracy on the meta-validation episodes at the current meta-parameters.
    private let score: () throws -> Double

    /// The best meta-step so far: its step, mean accuracy and a copy of its meta-parameters.
    private(set) var best: (step: Int, accuracy: Double, parameters: [Tensor])?
    /// Every scoring so far, by step (for the report and curves).
    private(set) var history: [(step: Int, accuracy: Double)] = []

    init(every: Int, shapes: [Shape], score: @escaping () throws -> Double) {
        precondition(every > 0)
        self.every = every
        self.shapes = shapes
        self.score = score
    }

    /// Whether meta-step `step` (0-based, just taken) of `steps` ends on a scoring.
    func isDue(afterStep step: Int, of steps: Int) -> Bool { (step + 1) % every == 0 || step + 1 == steps }

    /// Scores `parameters` as they stand after `completed` meta-steps and keeps them if
    /// they beat every earlier scoring (a tie keeps the earlier, shorter-trained one).
    @discardableResult
    func evaluate(completed: Int, parameters: [Tensor]) throws -> Double {
        let accuracy = try score()
        consider(step: completed, accuracy: accuracy, parameters: parameters)
        return accuracy
    }

    /// The selection rule alone: strictly better replaces; NaN never does.
    func consider(step: Int, accuracy: Double, parameters: [Tensor]) {
        history.append((step, accuracy))
        guard accuracy.isFinite, best == nil || accuracy > best!.accuracy else { return }
        best = (step, accuracy, parameters.map { Tensor(shape: $0.shape, storage: Storage($0.scalars)) })
    }

    /// Copies the kept meta-parameters into `parameters` (in place).
    func restoreBest(into parameters: [Tensor]) {
        guard let best else { return }
        for (target, source) in zip(parameters, best.parameters) {
            target.storage.withUnsafeMutableBufferPointer { buffer in
                source.storage.withUnsafeBufferPointer { _ = buffer.update(fromContentsOf: $0) }
            }
        }
    }

    // MARK: CheckpointCompanion

    var checkpointTensors: [(name: String, tensor: Tensor)] {
        (best?.parameters ?? []).enumerated().map { ("validation.best.\($0.offset)", $0.element) }
    }

    var checkpointMetadata: [String: String] {
        var metadata = ["orrery.validation.history": history.map { "\($0.step):\($0.accuracy)" }.joined(separator: ",")]
        if let best { metadata["orrery.validation.best"] = "\(best.step):\(best.accuracy)" }
        return metadata
    }

    func restore(tensors: [String: Tensor], metadata: [String: String]) throws {
        history = try Self.pairs(metadata["orrery.validation.history"] ?? "")
        guard let record = metadata["orrery.validation.best"] else {
            best = nil
            return
        }
        guard let (step, accuracy) = try Self.pairs(record).first else { throw Self.unreadable("orrery.validation.best") }
        var parameters: [Tensor] = []
        while let tensor = tensors["validation.best.\(parameters.count)"] { parameters.append(tensor) }
        guard parameters.map(\.shape) == shapes else {
            throw TaskError("checkpoint: meta-validation's best meta-parameters do not have this task's \(shapes.count) shapes", retryable: false)
        }
        best = (step, accuracy, parameters)
    }

    /// "step:accuracy,step:accuracy" → pairs.
    private static func pairs(_ text: String) throws -> [(step: Int, accuracy: Double)] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let step = Int(parts[0]), let accuracy = Double(parts[1]) else { throw unreadable("orrery.validation") }
            return (step, accuracy)
        }
    }

    private static func unreadable(_ key: String) -> TaskError { TaskError("checkpoint: \(key) metadata is unreadable", retryable: false) }
}
