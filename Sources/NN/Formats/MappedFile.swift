import Foundation
import Tensor

/// Weight files are memory-mapped rather than read: a reader touches only the pages of
/// the tensors it copies out, and a 100 MB model costs no 100 MB buffer.
enum MappedFile {
    /// The file's bytes, mapped; a missing or unreadable file is an error naming it.
    static func read(_ path: String) throws(TensorError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TensorError(.badFile(path: path, detail: "cannot read: \(error.localizedDescription)"))
        }
    }
}
