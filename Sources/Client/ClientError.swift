import Wire

/// Why a request to the coordinator did not get the answer it wanted.
public struct ClientError: Error, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// No answer within the time allowed.
        case timeout
        /// The coordinator refused; `code` says what kind of refusal.
        case rejected(Orrery_V1_RejectCode)
        /// A frame from the coordinator that could not be read.
        case badReply
        /// The user interrupted the wait (SIGINT/SIGTERM).
        case interrupted
        /// The CURVE handshake failed: the coordinator refused this client's key, or the two
        /// sides do not agree on keys or mechanism.
        case securityRefused
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
