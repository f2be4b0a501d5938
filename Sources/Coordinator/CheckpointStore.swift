import Foundation
import Logging

/// The newest checkpoint of every running task, kept by the coordinator so that a task
/// restarted elsewhere (a gang re-formed after losing a member) resumes from it.
///
/// Checkpoints live in memory and, when a directory is configured, are also written there
/// (atomically, one file per task) for operators to inspect or copy.
struct CheckpointStore {
    struct Entry {
        let attempt: Int
        let step: UInt64
        let data: Data
    }

    private var entries: [TaskID: Entry] = [:]
    let directory: String?

    init(directory: String?) { self.directory = directory }

    func latest(_ taskID: TaskID) -> Entry? { entries[taskID] }

    /// Keeps `entry` unless a newer step of the task is already stored.
    mutating func commit(_ taskID: TaskID, _ entry: Entry, logger: Logger) {
        if let current = entries[taskID], current.step > entry.step { return }
        entries[taskID] = entry
        guard let directory else { return }
        let name = taskID.wire.map { $0.isLetter || $0.isNumber || $0 == "-" ? String($0) : "_" }.joined() + ".ckpt"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try entry.data.write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        } catch {
            logger.warning("checkpoint kept in memory only", metadata: ["task": "\(taskID)", "error": "\(error)"])
        }
    }

    /// Forgets every checkpoint of a job that has ended.
    mutating func removeJob(_ jobID: JobID) {
        entries = entries.filter { $0.key.job != jobID }
    }
}
