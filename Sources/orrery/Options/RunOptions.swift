import ArgumentParser
import Foundation
import Reporting
import Wire
import Workloads

/// `--dry-run` and `--report-dir`, for the commands that run a job (submit, launch).
struct RunOptions: ParsableArguments {
    @Flag(name: .long, help: "Validate the spec, print what the job will cost at most, and run nothing.")
    var dryRun = false

    @Option(name: .long, help: "Write the job's report (report.json, tables such as leaderboard.csv, SVG plots) into this directory, and its curves as TensorBoard files into tensorboard/ in it as they arrive.")
    var reportDir: String?

    /// The job's TensorBoard directory (`--report-dir`/tensorboard), with the spec's
    /// settings as hyperparameters; nil without `--report-dir`.
    func tensorBoard(yaml: String) -> TensorBoardLog? {
        reportDir.map { TensorBoardLog(directory: ($0 as NSString).appendingPathComponent("tensorboard"), hyperparameters: SpecHyperparameters.flatten(yaml: yaml)) }
    }

    /// Prints the dry run's lines for `job`.
    static func printCost(_ job: ValidatedJob, source: String) {
        print("ok: \(source) (\(job.spec.name): \(job.spec.workload.kind))")
        if let tasks = job.planner.expectedTaskCount { print("tasks: \(tasks)") }
        print(job.planner.plannedCost ?? "cost: not known before the job runs")
    }

    /// Saves a finished job's report files, when `--report-dir` was given.
    func save(_ job: Orrery_V1_JobInfo) throws {
        guard let reportDir else { return }
        try ReportDirectory.write(JobReport(text: job.reportText, json: job.reportJson, files: job.reportFiles), to: reportDir)
    }
}
