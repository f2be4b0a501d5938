import Foundation
import Messaging
import Wire

/// The mix of hostile messages every fuzzer draws from: well-formed envelopes with extreme
/// values, the same envelopes damaged, raw junk, other protocol versions, deep nesting,
/// empty and multipart messages. `structured` supplies the well-formed part for the role
/// being played.
public struct HostileFrames {
    public var messages: HostileMessages

    public init(seed: UInt64, specCorpus: [String] = []) {
        messages = HostileMessages(seed: seed, specCorpus: specCorpus)
    }

    /// One message (its frames) to send, around a well-formed body from `structured`.
    public mutating func next(_ structured: (inout HostileMessages) -> EnvelopeBody) -> [Frame] {
        let roll = messages.mutator.integer(below: 100)
        switch roll {
        case 0..<45:
            return [EnvelopeCodec.encode(structured(&messages))]
        case 45..<70:
            let valid = EnvelopeCodec.encode(structured(&messages))
            return [messages.mutator.mutate(valid)]
        case 70..<82:
            let length = messages.mutator.chance(5) ? 0 : messages.mutator.integer(below: 512)
            return [messages.mutator.randomBytes(length)]
        case 82..<88:
            var envelope = Envelope()
            envelope.protocolVersion = messages.mutator.extremeUInt32()
            envelope.body = structured(&messages)
            return [(try? envelope.serializedBytes()) ?? []]
        case 88..<92:
            let depth = 1 + messages.mutator.integer(below: 20_000)
            return [messages.mutator.chance(50) ? messages.mutator.deeplyNested(depth: depth) : messages.mutator.nestedMessages(depth: min(depth, 2_000))]
        case 92..<96:
            var envelope = Envelope()
            envelope.protocolVersion = WireProtocol.version  // a version and no body
            return [(try? envelope.serializedBytes()) ?? []]
        default:
            let parts = 2 + messages.mutator.integer(below: 6)
            return (0..<parts).map { _ in
                messages.mutator.chance(50) ? EnvelopeCodec.encode(structured(&messages)) : messages.mutator.randomBytes(messages.mutator.integer(below: 64))
            }
        }
    }
}
