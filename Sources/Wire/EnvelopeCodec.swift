import Foundation
import SwiftProtobuf

/// Turns control-plane messages into frames and back, checking the protocol version.
public enum EnvelopeCodec {
    /// One frame holding `body` at the current protocol version.
    public static func encode(_ body: EnvelopeBody) -> [UInt8] {
        var envelope = Envelope()
        envelope.protocolVersion = WireProtocol.version
        envelope.body = body
        // Serializing a message built in memory only fails for required fields proto3 lacks.
        return (try? envelope.serializedBytes()) ?? []
    }

    /// Unknown fields are dropped rather than kept inside the decoded message (a peer
    /// could otherwise park megabytes in a registration the coordinator stores), and
    /// nesting is bounded well below the stack.
    public static var decodingOptions: BinaryDecodingOptions {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        options.messageDepthLimit = 32
        return options
    }

    /// The body of an envelope frame.
    /// - Throws: `WireError` for bytes that do not parse, another protocol version, or no body.
    public static func decode(_ frame: [UInt8]) throws(WireError) -> EnvelopeBody {
        let envelope: Envelope
        do {
            envelope = try Envelope(serializedBytes: frame, options: decodingOptions)
        } catch {
            throw WireError(.malformed("\(frame.count) bytes: \(error)"))
        }
        guard envelope.protocolVersion == WireProtocol.version else {
            throw WireError(.wrongVersion(envelope.protocolVersion))
        }
        guard let body = envelope.body else { throw WireError(.emptyBody) }
        return body
    }

    /// Decodes a workload payload as `M`, naming `M` in the error.
    public static func decodePayload<M: SwiftProtobuf.Message>(_ type: M.Type, from bytes: Data) throws(WireError) -> M {
        do {
            return try M(serializedBytes: bytes, options: decodingOptions)
        } catch {
            throw WireError(.badPayload(message: String(describing: M.protoMessageName), detail: "\(error)"))
        }
    }

    /// Serializes a workload payload.
    ///
    /// Map fields are written in key order: a planner's payloads must be the same bytes in
    /// every process (the replay contract), and a dictionary's order is not.
    public static func encodePayload(_ message: some SwiftProtobuf.Message) -> Data {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return (try? message.serializedData(options: options)) ?? Data()
    }
}
