/// The control-plane protocol version this build speaks (`PROTOCOL_VERSION_CURRENT`).
public enum WireProtocol {
    public static let version = UInt32(Orrery_V1_ProtocolVersion.current.rawValue)
}

/// Short names for the generated messages that the rest of Orrery uses most.
public typealias Envelope = Orrery_V1_Envelope
public typealias EnvelopeBody = Orrery_V1_Envelope.OneOf_Body
