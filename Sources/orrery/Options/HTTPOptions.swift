import ArgumentParser
import Coordinator
import Dashboard
import Foundation
import Hummingbird
import Logging
import Observability

/// `--http` and `--http-token-file` for the coordinator (dashboard, JSON API, `/metrics`),
/// and `--metrics` with the same token file for a worker (`/metrics` alone).
struct HTTPOptions: ParsableArguments {
    @Option(name: .long, help: "Serve the dashboard, the JSON API and /metrics here, e.g. 127.0.0.1:8265 (port 0: a free one). Off by default.")
    var http: String?

    @Option(name: .long, help: "Serve Prometheus metrics (GET /metrics) here, e.g. 127.0.0.1:9101. Off by default.")
    var metrics: String?

    @Option(name: .long, help: "Require this bearer token (a file holding at least 16 characters) on every HTTP request.")
    var httpTokenFile: String?

    /// The address `flag` names, checked.
    func binding(_ text: String?) throws -> HTTPBinding? {
        guard let text else { return nil }
        do {
            return try HTTPBinding(text)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func token() throws -> AccessToken? {
        guard let httpTokenFile else { return nil }
        do {
            return try AccessToken(file: httpTokenFile)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Starts the server for `router` at `binding`, installing the Prometheus backend
    /// first; nil when the flag was not given.
    func start(_ binding: HTTPBinding?, logger: Logger, routes: (Router<BasicRequestContext>) -> Void) async throws -> HTTPServer? {
        guard let binding else { return nil }
        do {
            return try await HTTPServer.start(binding: binding, token: try token(), logger: logger, routes: routes)
        } catch let error as ValidationError {
            throw error
        } catch {
            logger.critical("cannot serve HTTP at \(binding): \(error)")
            throw ExitCode(3)
        }
    }
}
