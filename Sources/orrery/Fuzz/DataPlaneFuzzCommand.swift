import ArgumentParser
import Foundation
import Fuzzing
import Messaging

struct DataPlaneFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-plane",
        abstract: "Flood a worker's data-plane endpoint with junk and frames of rings that do not exist.")

    @Option(name: .long, help: "The worker's data-plane endpoint (its --data-bind).")
    var endpoint: String

    @Option(name: .long, help: "Connections to flood from.")
    var connections = 4

    @OptionGroup var fuzz: FuzzOptions

    func run() throws {
        let context = try ZMQContext()
        let fuzzer = try DataPlaneFuzzer(endpoint: endpoint, context: context, seed: fuzz.seed, connections: connections)
        try FuzzRun.report("data plane", options: fuzz) { fuzzer.run(count: fuzz.frames, deadline: FuzzRun.deadline(fuzz)) }
    }
}
