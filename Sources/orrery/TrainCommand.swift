import ArgumentParser
import Foundation
import Reporting
import Synchronization
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

    @Option(name: .long, help: "Write the report (report.json, curves.svg, curves.csv) into this directory, and the curves as TensorBoard files into tensorboard/ in it as training runs.")
    var reportDir: String?

    func run() throws {
        let (yaml, job) = try JobSpecFile.load(spec)
        guard job.spec.workload.kind == "train" else {
            throw CommandFailure.exit("\(spec): workload is '\(job.spec.workload.kind)'; orrery train runs `workload: train`", code: CommandFailure.invalidInput)
        }
        let quiet = output.json
        let tensorBoard = reportDir.map {
            LockedTensorBoard(TensorBoardLog(directory: ($0 as NSString).appendingPathComponent("tensorboard"), hyperparameters: SpecHyperparameters.flatten(yaml: yaml)))
        }
        let result = try LocalJobRunner.run(job, onProgress: { _, _, message in
            if !quiet { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
        }, onPoints: { tensorBoard?.write($0) })
        tensorBoard?.finish(succeeded: result.failure == nil)
        if let reportDir { try ReportDirectory.write(result.report, to: reportDir) }
        if let failure = result.failure {
            throw CommandFailure.exit("training failed: \(failure)", code: CommandFailure.jobFailed)
        }
        print(output.json ? result.report.json : result.report.text)
    }
}

/// The TensorBoard directory of an in-process run, written from the task's thread; a write
/// that fails is reported once and the run goes on.
private final class LockedTensorBoard: Sendable {
    private let log: Mutex<TensorBoardLog?>

    init(_ log: sending TensorBoardLog) { self.log = Mutex(log) }

    func write(_ points: [CurvePoint]) {
        log.withLock { log in
            do {
                try log?.write(points)
            } catch {
                FileHandle.standardError.write(Data("orrery: TensorBoard files stopped: \(error)\n".utf8))
                log = nil
            }
        }
    }

    func finish(succeeded: Bool) { log.withLock { try? $0?.finish(succeeded: succeeded) } }
}
