import Foundation
import Runtime

/// Checkpoints too large for a control frame travel as files. A checkpoint goes to the
/// coordinator inside one frame (and back inside a lease), which is bounded; MiniLM's
/// layers with their optimizer state are not. Above `inlineLimit` the worker writes the
/// checkpoint under its output directory (`checkpoints/<task>/step-<N>.ckpt`, atomically;
/// the newest earlier one is kept, older ones removed) and commits a small reference
/// instead — the file's name, size and sha256 — which the coordinator keeps, stores in its
/// ledger and hands to the next attempt like any checkpoint. The worker that resumes reads the file from its own output directory and
/// checks size and digest, so the directory must be one the workers share (the same
/// directory on one host, as `orrery launch` runs them; a shared file system across hosts).
public enum CheckpointFile {
    /// Checkpoints larger than this (bytes) are written to files, by default
    /// (`orrery worker --checkpoint-inline-limit`).
    public static let inlineLimit = 16 << 20
    /// Opens a reference; no checkpoint an executor makes (safetensors, protobuf) starts so.
    static let magic = Data("ORRERY-CHECKPOINT-FILE 1\n".utf8)

    struct Reference: Codable, Equatable {
        let name: String
        let bytes: Int
        let sha256: String
    }

    /// The folder of a task's checkpoint files, inside the output directory.
    static func folder(_ taskID: String) -> String {
        "checkpoints/" + String(taskID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(200))
    }

    /// `checkpoint` as it is committed: unchanged when small; else written to a file (the
    /// task's files older than the previous one removed) and replaced by a reference to it.
    /// - Throws: `TaskError` when the file cannot be written.
    public static func spill(
        _ checkpoint: TaskCheckpoint, taskID: String, directory: OutputDirectory, limit: Int = inlineLimit
    ) throws(TaskError) -> TaskCheckpoint {
        guard checkpoint.data.count > limit else { return checkpoint }
        let name = folder(taskID) + "/step-\(checkpoint.step).ckpt"
        let path = try directory.resolve(name)
        do {
            try checkpoint.data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TaskError("cannot write checkpoint file \(path): \(error.localizedDescription)", retryable: true)
        }
        removeOlder(than: checkpoint.step, in: (path as NSString).deletingLastPathComponent)
        var digest = SHA256()
        digest.update(checkpoint.data)
        let reference = Reference(name: name, bytes: checkpoint.data.count, sha256: digest.finalize())
        let encoded = (try? JSONEncoder().encode(reference)) ?? Data()
        return TaskCheckpoint(step: checkpoint.step, data: magic + encoded)
    }

    /// The checkpoint a reference stands for, read from `directory` and checked; a
    /// checkpoint that is no reference, unchanged.
    /// - Throws: `TaskError` naming what is wrong: no output directory, a name that leaves
    ///   it, a missing file, or one whose size or digest differ (all retryable: another
    ///   worker may see the shared directory as it should be).
    public static func resolve(_ checkpoint: TaskCheckpoint, directory: OutputDirectory?) throws(TaskError) -> TaskCheckpoint {
        guard checkpoint.data.starts(with: magic) else { return checkpoint }
        guard let reference = try? JSONDecoder().decode(Reference.self, from: checkpoint.data.dropFirst(magic.count)),
            reference.name.hasPrefix("checkpoints/"), reference.bytes >= 0
        else {
            throw TaskError("the checkpoint to resume from is a malformed file reference", retryable: false)
        }
        guard let directory else { throw TaskError("the checkpoint to resume from is a file, and this worker has no output directory", retryable: true) }
        let path = try directory.resolve(reference.name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TaskError("checkpoint file \(path) is missing (the workers' output directories must be shared)", retryable: true)
        }
        var digest = SHA256()
        digest.update(data)
        guard data.count == reference.bytes, digest.finalize() == reference.sha256 else {
            throw TaskError("checkpoint file \(path) is not the one committed (\(data.count) bytes, \(reference.bytes) expected, or another sha256)", retryable: true)
        }
        return TaskCheckpoint(step: checkpoint.step, data: data)
    }

    /// Keeps the newest file before `step` beside the one just written: the reference to it
    /// may be the last the coordinator received if this worker dies before the new one's
    /// reference arrives. Older ones go.
    private static func removeOlder(than step: Int, in folder: String) {
        let steps = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { name -> Int? in
            guard name.hasPrefix("step-"), name.hasSuffix(".ckpt") else { return nil }
            return Int(name.dropFirst(5).dropLast(5))
        }
        let previous = steps.filter { $0 < step }.max()
        for old in steps where old < step && old != previous {
            try? FileManager.default.removeItem(atPath: folder + "/step-\(old).ckpt")
        }
    }

    /// Removes a task's checkpoint files (once it has succeeded).
    public static func remove(taskID: String, directory: OutputDirectory) {
        try? FileManager.default.removeItem(atPath: directory.path + "/" + folder(taskID))
    }
}
