import Tensor

/// A model file that cannot be used: missing, truncated, corrupt, or not the model it
/// claims to be. The description names the file and what was wrong with it.
public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let detail: String

    public init(path: String, _ detail: String) {
        self.path = path
        self.detail = detail
    }

    /// The same failure reported by a weight reader.
    init(_ error: TensorError, fallbackPath: String) {
        if case .badFile(let path, let detail) = error.reason {
            self.init(path: path, detail)
        } else {
            self.init(path: fallbackPath, error.description)
        }
    }

    public var description: String { "\(path): \(detail)" }
}
