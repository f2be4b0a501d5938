import Foundation

/// The one directory a worker writes task outputs into (`orrery worker --output-dir`).
///
/// A lease comes from the network, so a path inside it (a `train` task's `save_path`) is
/// resolved here and refused when it would leave the directory: an absolute path
/// elsewhere, `..` components that climb out, or a symbolic link inside that points out.
public struct OutputDirectory: Sendable, Equatable {
    /// Absolute, with symbolic links resolved.
    public let path: String

    /// - Throws: `TaskError` when `path` does not exist or is not a directory.
    public init(_ path: String) throws(TaskError) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let resolved = Self.realPath(absolute) else {
            throw TaskError("output directory \(absolute) does not exist", retryable: false)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TaskError("output directory \(absolute) is not a directory", retryable: false)
        }
        self.path = resolved
    }

    /// Where `requested` (relative to this directory, or absolute inside it) may be
    /// written; its parent directories are created inside this one.
    ///
    /// - Throws: a non-retryable `TaskError` naming the path when it leaves the directory.
    public func resolve(_ requested: String) throws(TaskError) -> String {
        guard !requested.isEmpty, !requested.utf8.contains(0) else {
            throw TaskError("output path is empty or holds a NUL byte", retryable: false)
        }
        let joined = requested.hasPrefix("/") ? requested : path + "/" + requested
        let candidate = URL(fileURLWithPath: joined).standardizedFileURL.path
        guard inside(candidate), candidate != path else { throw outside(requested) }
        let parent = (candidate as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw TaskError("cannot create \(parent) for output \(requested): \(error.localizedDescription)", retryable: false)
        }
        // A link already inside the directory may point anywhere: judge where it leads.
        guard let realParent = Self.realPath(parent), inside(realParent) || realParent == path else { throw outside(requested) }
        return realParent + "/" + (candidate as NSString).lastPathComponent
    }

    private func inside(_ candidate: String) -> Bool { candidate.hasPrefix(path == "/" ? "/" : path + "/") }

    private func outside(_ requested: String) -> TaskError {
        TaskError(
            "output path '\(requested.prefix(200))' leaves this worker's output directory \(path); "
                + "give a path inside it (relative paths are taken from it)", retryable: false)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
