import ArgumentParser
import Client
import Foundation

/// Prints `orrery: error: …` on standard error and exits with a documented status.
enum CommandFailure {
    static let jobFailed: Int32 = 1
    static let invalidInput: Int32 = 2
    static let clusterError: Int32 = 3
    static let interrupted: Int32 = 130

    /// The exit for a refusal or failure of the coordinator: the user's own mistake (an
    /// invalid spec, a job id the coordinator does not know) is 2, anything about the
    /// cluster is 3.
    static func exit(_ error: ClientError) -> ExitCode {
        switch error.kind {
        case .rejected(.rejectInvalidSpec): exit("invalid job spec: \(error.message)", code: invalidInput)
        case .rejected(.rejectUnknownJob): exit(error.message, code: invalidInput)
        case .interrupted: exit(error.message, code: interrupted)
        default: exit(error.message, code: clusterError)
        }
    }

    static func exit(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("orrery: error: \(message)\n".utf8))
        return ExitCode(code)
    }
}
