import Foundation

/// A model a worker loads the first time a task needs it and keeps, together with the
/// sha256 of its weights file. Every use checks that digest against the one the planner
/// keys its scores by: a worker with other weights must not score, or its scores would be
/// filed under the wrong model.
final class VerifiedModel<Model>: @unchecked Sendable {
    private let lock = NSLock()
    private let name: String
    private let weights: FileDigest
    private let load: () throws -> Model
    private var loaded: Model?

    /// - Parameters:
    ///   - weightsPath: the file whose digest identifies the model.
    ///   - load: reads the model; its errors are reported as a retryable task failure.
    init(name: String, weightsPath: String, load: @escaping () throws -> Model) {
        self.name = name
        self.weights = FileDigest(path: weightsPath)
        self.load = load
    }

    /// The model, loaded once, if its weights have the digest `expected`. The digest is
    /// checked before the model is loaded, so a task naming other weights costs a hash,
    /// not a load. Errors are retryable, so that another worker (with the right files) can
    /// take the task.
    func get(expected: String) throws -> Model {
        try weights.verify(expected, why: "the job's scores are keyed by that digest")
        return try lock.withLock { () throws -> Model in
            if loaded == nil {
                do { loaded = try load() } catch {
                    throw TaskError("cannot load \(name): \(error)", retryable: true)
                }
            }
            return loaded!
        }
    }
}
