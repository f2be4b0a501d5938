import ArgumentParser
import Foundation
import Workloads

/// Reads and validates a job spec file before anything starts.
enum JobSpecFile {
    /// The file's text and its validated job; a missing file or an invalid spec exits with
    /// status 2 and a message naming the file, field and line.
    static func load(_ path: String, registry: WorkloadRegistry = .builtIn) throws -> (yaml: String, job: ValidatedJob) {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure.exit("cannot read job spec \(path): \(error.localizedDescription)", code: CommandFailure.invalidInput)
        }
        guard let yaml = String(validating: Array(bytes), as: UTF8.self) else {
            throw CommandFailure.exit("invalid job spec: \(Self.firstInvalidUTF8(bytes, path: path))", code: CommandFailure.invalidInput)
        }
        do {
            return (yaml, try JobSpec.parse(yaml: yaml, source: path, registry: registry))
        } catch {
            throw CommandFailure.exit("invalid job spec: \(error)", code: CommandFailure.invalidInput)
        }
    }

    /// "path:line:column: not UTF-8 text (byte 0xff at offset N)" for the first byte that
    /// breaks UTF-8, so that a binary file or a Latin-1 spec is named where it goes wrong.
    static func firstInvalidUTF8(_ bytes: Data, path: String) -> String {
        var iterator = Array(bytes).makeIterator()
        var decoder = UTF8()
        var (offset, line, column) = (0, 1, 1)
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
                if scalar == "\n" { (line, column) = (line + 1, 1) } else { column += 1 }
            case .emptyInput:
                return "\(path): not UTF-8 text"
            case .error:
                let byte = offset < bytes.count ? String(bytes[bytes.startIndex + offset], radix: 16) : "?"
                return "\(path):\(line):\(column): not UTF-8 text (byte 0x\(byte) at offset \(offset))"
            }
        }
    }
}
