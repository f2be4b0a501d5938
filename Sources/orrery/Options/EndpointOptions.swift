import ArgumentParser
import Foundation

/// `--coordinator`, for the commands that talk to a running coordinator.
struct EndpointOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The coordinator's control endpoint (default: $ORRERY_COORDINATOR or tcp://127.0.0.1:7100).")
    var coordinator: String = ProcessInfo.processInfo.environment["ORRERY_COORDINATOR"] ?? "tcp://127.0.0.1:7100"
}

/// `--json`, for commands whose result a program may read.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as JSON on standard output.")
    var json = false
}
