import Foundation
import Runtime

/// A weights file's sha256, computed once per worker (the file does not change under a
/// running worker), and compared with the digest a job relies on: prompt search keys its
/// scores by it, a pipeline needs every stage to hold the same weights.
final class FileDigest: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var digest: String?

    init(path: String) { self.path = path }

    /// The digest; a file that cannot be read fails the task retryably, so that a worker
    /// with the file can take it.
    func value() throws -> String {
        try lock.withLock { () throws -> String in
            if let digest { return digest }
            do {
                let computed = try SHA256.hex(file: path)
                digest = computed
                return computed
            } catch {
                throw TaskError("cannot read \(path) (run scripts/fetch-data on this worker)", retryable: true)
            }
        }
    }

    /// Fails the task (retryably) unless the file's digest is `expected`; `why` ends the
    /// message ("the job's scores are keyed by it").
    func verify(_ expected: String, why: String) throws {
        let actual = try value()
        guard actual == expected else {
            throw TaskError("\(path) has sha256 \(actual), not \(PrintableText.escaped(expected, limit: 80)): \(why)", retryable: true)
        }
    }
}
