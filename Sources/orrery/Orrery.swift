import ArgumentParser
import Foundation
import Wire

/// The `orrery` command-line tool: daemons, job submission and benchmarks in one binary.
@main
struct Orrery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orrery",
        abstract: "A distributed training and search system: a coordinator plans work, workers run it.",
        discussion: """
            Run a job on this machine:        orrery launch --workers 2 jobs/branin-sweep.yaml
            Run a cluster by hand:            orrery coordinator --bind tcp://0.0.0.0:7100
                                              orrery worker --coordinator tcp://HEAD:7100
                                              orrery submit jobs/branin-sweep.yaml --coordinator tcp://HEAD:7100

            Exit status: 0 success; 1 the job failed or was cancelled; 2 invalid job spec or
            arguments; 3 the cluster could not be reached or a daemon failed; 130 interrupted.
            """,
        version: "0.1.0 (wire protocol \(WireProtocol.version))",
        subcommands: [
            LaunchCommand.self, TrainCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self,
            StatusCommand.self, JobsCommand.self, CancelCommand.self, ValidateCommand.self, WorkloadsCommand.self, EmbedCommand.self,
            GenerateCommand.self, ExplainCommand.self, QuantizeCommand.self, BenchCommand.self, FuzzCommand.self, KeygenCommand.self,
        ])

    /// ArgumentParser's own `main`, except that invalid arguments exit with status 2, as
    /// the discussion above promises, instead of its EX_USAGE (64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var daemon = command as? AsyncParsableCommand {
                try await daemon.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            guard code.rawValue == ExitCode.validationFailure.rawValue else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
