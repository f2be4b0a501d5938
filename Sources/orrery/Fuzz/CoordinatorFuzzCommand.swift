import ArgumentParser
import Foundation
import Fuzzing
import Messaging

struct CoordinatorFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Fuzz a running coordinator as a crowd of workers or of clients.")

    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var fuzz: FuzzOptions

    @Option(name: .long, help: "Whose frames to send: worker or client.")
    var role: CoordinatorFuzzer.Role = .worker

    @Option(name: .long, help: "Connections open at once (one in four never reads its replies).")
    var connections = 16

    @Option(name: .long, parsing: .upToNextOption, help: "Job specs to mutate (client role; default: built-in ones).")
    var specs: [String] = []

    func run() throws {
        let corpus = try specs.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let context = try ZMQContext()
        let fuzzer = try CoordinatorFuzzer(
            endpoint: endpoint.coordinator, role: role, context: context, seed: fuzz.seed, connections: connections,
            specCorpus: corpus)
        try FuzzRun.report("coordinator (\(role.rawValue) role)", options: fuzz) {
            fuzzer.run(count: fuzz.frames, deadline: FuzzRun.deadline(fuzz))
        }
    }
}

extension CoordinatorFuzzer.Role: ExpressibleByArgument {}
