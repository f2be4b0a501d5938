import Foundation
import Runtime

/// A model a worker loads the first time a task needs it and keeps, together with the
/// sha256 of its weights file. Every use checks that digest against the one the planner
/// keys its scores by: a worker with other weights must not score, or its scores would be
/// filed under the wrong model.
final class VerifiedModel<Model>: @unchecked Sendable {
    private let lock = NSLock()
    private let name: String
    private let weightsPath: String
    private let load: () throws -> Model
    private var loaded: (model: Model, sha256: String)?

    /// - Parameters:
    ///   - weightsPath: the file whose digest identifies the model.
    ///   - load: reads the model; its errors are reported as a retryable task failure.
    init(name: String, weightsPath: String, load: @escaping () throws -> Model) {
        self.name = name
        self.weightsPath = weightsPath
        self.load = load
    }

    /// The model, loaded once, if its weights have the digest `expected`. Errors are
    /// retryable, so that another worker (with the right files) can take the task.
    func get(expected: String) throws -> Model {
        try lock.withLock { () throws -> Model in
            if loaded == nil {
                let sha256: String
                do { sha256 = try SHA256.hex(file: weightsPath) } catch {
                    throw TaskError("cannot read \(weightsPath) (run scripts/fetch-data on this worker)", retryable: true)
                }
                do { loaded = (try load(), sha256) } catch {
                    throw TaskError("cannot load \(name): \(error)", retryable: true)
                }
            }
            guard loaded!.sha256 == expected else {
                throw TaskError("\(weightsPath) has sha256 \(loaded!.sha256), the job's scores are keyed by \(expected)", retryable: true)
            }
            return loaded!.model
        }
    }
}
