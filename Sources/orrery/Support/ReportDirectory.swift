import Foundation
import Workloads

/// Writes a report's files and its JSON (report.json) into a directory.
enum ReportDirectory {
    static func write(_ report: JobReport, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let files = report.files.merging(["report.json": report.json.isEmpty ? "null\n" : report.json + "\n"]) { own, _ in own }
            for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
                // Names come from the coordinator: keep them inside the directory.
                guard !name.contains("/"), !name.hasPrefix(".") else { continue }
                try contents.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
            }
        } catch {
            throw CommandFailure.exit("cannot write the report to \(directory): \(error.localizedDescription)", code: CommandFailure.invalidInput)
        }
    }
}
