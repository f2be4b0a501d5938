import ArgumentParser
import Client
import Messaging
import Runtime
import Wire

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job to a running coordinator and follow it to the end.",
        discussion: "The spec is validated here first: an invalid spec never reaches the cluster (exit status 2).")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @OptionGroup var endpoint: EndpointOptions

    @Flag(name: .long, help: "Print the job id and return at once instead of following the job.")
    var detach = false

    @OptionGroup var output: OutputOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        let (yaml, validated) = try JobSpecFile.load(spec)
        if runOptions.dryRun {
            RunOptions.printCost(validated, source: spec)
            return
        }
        SignalTrap.install()
        let context = try ZMQContext()
        if detach {
            let client = try endpoint.makeClient(context: context)
            do {
                print(try client.submit(specYAML: yaml, sourceName: spec, watch: false))
                return
            } catch let error as ClientError {
                throw CommandFailure.exit(error)
            }
        }
        let job = try ClusterJobRunner.run(
            yaml: yaml, source: spec, endpoint: endpoint.coordinator, context: context, quiet: output.json, curve: endpoint.curve.resolved(for: .client),
            tensorBoard: runOptions.tensorBoard(yaml: yaml))
        JobResultPrinter.print(job, json: output.json)
        try runOptions.save(job)
        throw ExitCode(JobResultPrinter.exitCode(for: job))
    }
}
