import Foundation
import Hummingbird
import Logging
import Synchronization

/// A daemon's HTTP server (Hummingbird), running beside its ZeroMQ loop until stopped:
/// the coordinator's dashboard, API and `/metrics`, or a worker's `/metrics` alone.
public final class HTTPServer: Sendable {
    /// The port actually bound (the one asked for, or a free one for port 0).
    public let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Binds `binding` and serves the routes `routes` adds, behind the access check when
    /// `token` is set (a router's middleware covers only routes added after it, so the
    /// server makes the router); returns once the server listens. A non-loopback address
    /// without a token is served with a warning in the log (anyone who reaches the port can
    /// read it).
    /// - Throws: the bind's error (address in use, say).
    public static func start(
        binding: HTTPBinding, token: AccessToken?, logger: Logger, routes: (Router<BasicRequestContext>) -> Void
    ) async throws -> HTTPServer {
        let router = Router()
        if let token { router.add(middleware: AccessTokenMiddleware(token: token)) }
        routes(router)
        if !binding.isLoopback && token == nil {
            logger.warning(
                "HTTP served beyond this machine without an access token: anyone who reaches the port can read it; give --http-token-file",
                metadata: ["address": "\(binding)"])
        }
        let started = StartSignal()
        let application = Application(
            router: router, configuration: .init(address: .hostname(binding.host, port: binding.port), serverName: "orrery"),
            onServerRunning: { channel in started.signal(.success(channel.localAddress?.port ?? binding.port)) },
            logger: logger)
        let task = Task {
            do {
                try await application.run()
            } catch {
                started.signal(.failure(error))
                throw error
            }
        }
        let port = try await started.wait()
        logger.info("HTTP listening", metadata: ["address": "\(binding.host):\(port)"])
        return HTTPServer(port: port, task: task)
    }

    /// Stops serving and waits until the server has closed.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// The first outcome of starting the server, handed to whoever waits for it.
private final class StartSignal: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Int, any Error>?)>((nil, nil))

    func signal(_ result: Result<Int, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Int, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
