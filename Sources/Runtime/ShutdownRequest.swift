import Foundation

/// What a daemon's loop is asked to do about stopping.
public enum ShutdownRequest: Equatable, Sendable {
    /// Stop in order: take no new work, let running work finish up to the daemon's deadline.
    case graceful(reason: String)
    /// Stop now, without waiting for running work (a second signal, or the lifecycle's
    /// deadline for a graceful stop ran out).
    case immediate(reason: String)

    /// Why the stop was asked for, for logs.
    public var reason: String {
        switch self {
        case .graceful(let reason), .immediate(let reason): reason
        }
    }
}

/// Shutdown requests on their way from the lifecycle (any thread) to a daemon's loop thread,
/// which takes them once per turn.
///
/// Daemon loops are blocking `zmq_poll` loops on a thread of their own; they cannot await,
/// so the lifecycle leaves requests here and the loop notices them within one poll timeout.
public final class ShutdownMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [ShutdownRequest] = []

    public init() {}

    /// Leaves a request for the loop.
    public func post(_ request: ShutdownRequest) {
        lock.withLock { waiting.append(request) }
    }

    /// The oldest request not yet taken, if any.
    public func take() -> ShutdownRequest? {
        lock.withLock { waiting.isEmpty ? nil : waiting.removeFirst() }
    }
}
