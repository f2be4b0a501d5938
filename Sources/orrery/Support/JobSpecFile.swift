import ArgumentParser
import Foundation
import Workloads

/// Reads and validates a job spec file before anything starts.
enum JobSpecFile {
    /// The file's text and its validated job; a missing file or an invalid spec exits with
    /// status 2 and a message naming the file, field and line.
    static func load(_ path: String, registry: WorkloadRegistry = .builtIn) throws -> (yaml: String, job: ValidatedJob) {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CommandFailure.exit("cannot read job spec \(path): \(error.localizedDescription)", code: CommandFailure.invalidInput)
        }
        do {
            return (yaml, try JobSpec.parse(yaml: yaml, source: path, registry: registry))
        } catch {
            throw CommandFailure.exit("invalid job spec: \(error)", code: CommandFailure.invalidInput)
        }
    }
}
