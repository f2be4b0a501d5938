import ArgumentParser
import Foundation
import Wire
import Workloads

/// `--dry-run` and `--report-dir`, for the commands that run a job (submit, launch).
struct RunOptions: ParsableArguments {
    @Flag(name: .long, help: "Validate the spec, print what the job will cost at most, and run nothing.")
    var dryRun = false

    @Option(name: .long, help: "Write the job's report (report.json, and tables such as leaderboard.csv) into this directory.")
    var reportDir: String?

    /// Prints the dry run's lines for `job`.
    static func printCost(_ job: ValidatedJob, source: String) {
        print("ok: \(source) (\(job.spec.name): \(job.spec.workload.kind))")
        if let tasks = job.planner.expectedTaskCount { print("tasks: \(tasks)") }
        print(job.planner.plannedCost ?? "cost: not known before the job runs")
    }

    /// Saves a finished job's report files, when `--report-dir` was given.
    func save(_ job: Orrery_V1_JobInfo) throws {
        guard let reportDir else { return }
        do {
            try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)
            let files = job.reportFiles.merging(["report.json": job.reportJson.isEmpty ? "null\n" : job.reportJson + "\n"]) { own, _ in own }
            for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
                // Names come from the coordinator: keep them inside the directory.
                guard !name.contains("/"), !name.hasPrefix(".") else { continue }
                try contents.write(toFile: "\(reportDir)/\(name)", atomically: true, encoding: .utf8)
            }
        } catch {
            throw CommandFailure.exit("cannot write the report to \(reportDir): \(error.localizedDescription)", code: CommandFailure.invalidInput)
        }
    }
}
