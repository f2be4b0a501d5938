/// Why a frame could not be turned into a message. Such frames are counted and dropped by
/// the receiver; they never crash a process.
public struct WireError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The bytes are not a valid protobuf Envelope.
        case malformed(String)
        /// A valid Envelope of another protocol version.
        case wrongVersion(UInt32)
        /// A valid Envelope with no body set (or one this build does not know).
        case emptyBody
        /// A workload payload that does not decode as the message its workload expects.
        case badPayload(message: String, detail: String)
    }

    public let reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .malformed(let detail): "malformed frame: \(detail)"
        case .wrongVersion(let version):
            "protocol version \(version) is not supported (this build speaks \(WireProtocol.version))"
        case .emptyBody: "frame carries no message this build knows"
        case .badPayload(let message, let detail): "payload is not a valid \(message): \(detail)"
        }
    }
}
