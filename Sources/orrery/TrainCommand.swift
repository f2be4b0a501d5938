import ArgumentParser
import Foundation
import Runtime
import Workloads

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a job spec in this process, printing progress and test accuracy.",
        discussion: """
            The spec's workload must be `train` (see jobs/fashion-mlp.yaml). Data comes from the
            cache filled by scripts/fetch-data ($ORRERY_DATA or ~/.cache/orrery). Threads:
            ORRERY_THREADS for the engine's kernels, OPENBLAS_NUM_THREADS for matrix products.
            """)

    @Argument(help: "The job spec (YAML) with `workload: train`.")
    var spec: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        let (_, job) = try JobSpecFile.load(spec)
        guard job.spec.workload.kind == "train" else {
            throw CommandFailure.exit("\(spec): workload is '\(job.spec.workload.kind)'; orrery train runs `workload: train`", code: CommandFailure.invalidInput)
        }
        let quiet = output.json
        let result = try LocalJobRunner.run(job) { _, _, message in
            if !quiet { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }
        if let failure = result.failure {
            throw CommandFailure.exit("training failed: \(failure)", code: CommandFailure.jobFailed)
        }
        print(output.json ? result.report.json : result.report.text)
    }
}
