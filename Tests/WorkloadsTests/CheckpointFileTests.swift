import Foundation
import Testing

@testable import Workloads

/// Checkpoints too large for a control frame: written to a file in the output directory,
/// committed as a reference, read back and checked on resume; a reference from the
/// network cannot name a file outside the directory, and a file that changed is refused.
@Suite("Checkpoint files")
struct CheckpointFileTests {
    static func directory() throws -> OutputDirectory {
        let path = NSTemporaryDirectory() + "/orrery-checkpoint-files-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return try OutputDirectory(path)
    }

    @Test("a small checkpoint stays inline; a large one becomes a reference to its file, which reads back as the checkpoint; all but the two newest steps' files go")
    func roundTrip() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let small = TaskCheckpoint(step: 3, data: Data(repeating: 7, count: 100))
        #expect(try CheckpointFile.spill(small, taskID: "job/t1", directory: directory, limit: 1000) == small)
        let data = Data((0..<5000).map { UInt8($0 % 251) })
        let first = try CheckpointFile.spill(TaskCheckpoint(step: 10, data: data), taskID: "job/t1", directory: directory, limit: 1000)
        let second = try CheckpointFile.spill(TaskCheckpoint(step: 20, data: data + data), taskID: "job/t1", directory: directory, limit: 1000)
        #expect(first.data.count < 300 && first.step == 10 && second.step == 20)
        #expect(try CheckpointFile.resolve(second, directory: directory) == TaskCheckpoint(step: 20, data: data + data))
        // The previous file stays (its reference may be the coordinator's newest if this
        // worker dies before the new one's arrives); the one before it goes.
        #expect(try CheckpointFile.resolve(first, directory: directory) == TaskCheckpoint(step: 10, data: data))
        _ = try CheckpointFile.spill(TaskCheckpoint(step: 30, data: data), taskID: "job/t1", directory: directory, limit: 1000)
        #expect(try CheckpointFile.resolve(small, directory: directory) == small)
        let folder = directory.path + "/" + CheckpointFile.folder("job/t1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["step-20.ckpt", "step-30.ckpt"])
        // The first reference's file is gone: resuming from it is refused by name.
        #expect { try CheckpointFile.resolve(first, directory: directory) } throws: { "\($0)".contains("step-10.ckpt is missing") }
        CheckpointFile.remove(taskID: "job/t1", directory: directory)
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    @Test("a file that changed after it was committed, a reference that climbs out, a malformed one, or no output directory are refused")
    func refusals() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let reference = try CheckpointFile.spill(TaskCheckpoint(step: 5, data: Data(repeating: 1, count: 2000)), taskID: "j/t", directory: directory, limit: 10)
        let path = directory.path + "/" + CheckpointFile.folder("j/t") + "/step-5.ckpt"
        try Data(repeating: 2, count: 2000).write(to: URL(fileURLWithPath: path))
        #expect { try CheckpointFile.resolve(reference, directory: directory) } throws: { "\($0)".contains("is not the one committed") }
        #expect { try CheckpointFile.resolve(reference, directory: nil) } throws: { "\($0)".contains("no output directory") }
        let climbing = CheckpointFile.magic + Data(#"{"name":"checkpoints/../../etc/passwd","bytes":1,"sha256":"00"}"#.utf8)
        #expect { try CheckpointFile.resolve(TaskCheckpoint(step: 1, data: climbing), directory: directory) } throws: { "\($0)".contains("leaves this worker's output directory") }
        let malformed = CheckpointFile.magic + Data("{not json".utf8)
        #expect { try CheckpointFile.resolve(TaskCheckpoint(step: 1, data: malformed), directory: directory) } throws: { "\($0)".contains("malformed file reference") }
    }
}
