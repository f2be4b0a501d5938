import ArgumentParser
import Foundation

/// Prints `orrery: error: …` on standard error and exits with a documented status.
enum CommandFailure {
    static let jobFailed: Int32 = 1
    static let invalidInput: Int32 = 2
    static let clusterError: Int32 = 3
    static let interrupted: Int32 = 130

    static func exit(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("orrery: error: \(message)\n".utf8))
        return ExitCode(code)
    }
}
