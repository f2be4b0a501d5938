import ArgumentParser
import Client
import Foundation
import Messaging

/// `--coordinator`, for the commands that talk to a running coordinator.
struct EndpointOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The coordinator's control endpoint (default: $ORRERY_COORDINATOR or tcp://127.0.0.1:7100).")
    var coordinator: String = ProcessInfo.processInfo.environment["ORRERY_COORDINATOR"] ?? "tcp://127.0.0.1:7100"

    @OptionGroup var curve: CurveOptions

    /// A client of the coordinator, speaking CURVE when the options say so.
    func makeClient(context: ZMQContext) throws -> CoordinatorClient {
        try CoordinatorClient(endpoint: coordinator, context: context, curve: curve.resolved(for: .client))
    }

    func validate() throws {
        if let problem = Self.problem(with: coordinator) { throw ValidationError("--coordinator \(coordinator): \(problem)") }
    }

    /// What is wrong with an endpoint to connect to, or nil: caught here, it is an invalid
    /// argument (exit 2) rather than a raw zmq_connect error or a five-second wait.
    static func problem(with endpoint: String) -> String? {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return nil }
        guard endpoint.hasPrefix("tcp://") else { return "expected tcp://HOST:PORT (or ipc://PATH)" }
        let address = endpoint.dropFirst("tcp://".count)
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex else { return "expected tcp://HOST:PORT" }
        guard let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
            return "the port must be a number from 1 to 65535"
        }
        return nil
    }
}

/// `--json`, for commands whose result a program may read.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as JSON on standard output.")
    var json = false
}
