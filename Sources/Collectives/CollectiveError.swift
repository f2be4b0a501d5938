/// Why a collective call failed. Every case names the rank it concerns, so that a
/// coordinator can tell a dead peer from a slow one and leave the right worker out of the
/// next ring.
public struct CollectiveError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The connection to `rank` closed: its process died or its host went away.
        case peerDisconnected
        /// Nothing arrived from `rank` before the call's deadline.
        case timedOut(milliseconds: Int)
        /// Another member gave up first and said so; `rank` is the one it blamed.
        case aborted(reportedBy: Int, reason: String)
        /// `rank` sent something this call did not expect (a wrong size, step or offset):
        /// the members disagree about the call, which is a bug or a mismatched job.
        case protocolViolation(String)
        /// The task running the collective was cancelled.
        case cancelled
        /// The socket layer failed.
        case transport(String)
    }

    public let kind: Kind
    /// The rank at fault (for `cancelled` and `transport`, this member's own rank).
    public let rank: Int
    /// The collective that failed, e.g. "all-reduce #12 (4096 floats)".
    public let operation: String

    public init(_ kind: Kind, rank: Int, operation: String) {
        self.kind = kind
        self.rank = rank
        self.operation = operation
    }

    /// True when the failure points at another member rather than at this one.
    public var blamesPeer: Bool {
        switch kind {
        case .peerDisconnected, .timedOut, .aborted: true
        case .protocolViolation, .cancelled, .transport: false
        }
    }

    public var description: String {
        switch kind {
        case .peerDisconnected: "\(operation): rank \(rank) disconnected (its process died or its host is unreachable)"
        case .timedOut(let ms): "\(operation): nothing from rank \(rank) within \(ms) ms"
        case .aborted(let reporter, let reason): "\(operation): rank \(reporter) gave up, blaming rank \(rank): \(reason)"
        case .protocolViolation(let detail): "\(operation): rank \(rank) does not follow the call: \(detail)"
        case .cancelled: "\(operation): cancelled"
        case .transport(let detail): "\(operation): transport error on rank \(rank): \(detail)"
        }
    }
}
