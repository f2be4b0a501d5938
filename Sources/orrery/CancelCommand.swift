import ArgumentParser
import Client
import Messaging

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a running job; its leased tasks are cancelled on the workers.")

    @Argument(help: "The job id, as printed by submit or status.")
    var jobID: String

    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let context = try ZMQContext()
        let client = try endpoint.makeClient(context: context)
        do {
            JobResultPrinter.print(try client.cancel(jobID: jobID), json: output.json)
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
    }
}
