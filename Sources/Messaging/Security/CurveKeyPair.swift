import CZeroMQ

/// A daemon's CURVE identity: its public key, which others list, and the secret half that
/// never leaves its key file.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: CurvePublicKey
    /// The 32 secret bytes.
    let secretBytes: [UInt8]

    /// Rebuilds a pair from its secret key alone (the public key is derived from it), so a
    /// file cannot hold a public key that does not belong to its secret.
    public init(secretZ85: String) throws(CurveError) {
        let secret = try CurveZ85.decode(secretZ85)
        var publicText = [CChar](repeating: 0, count: 41)
        let ok = zmq_curve_public(&publicText, secretZ85.trimmingSpaces) == 0
        guard ok else { throw .unavailable("zmq_curve_public failed: this libzmq has no CURVE support") }
        let publicZ85 = String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        publicKey = try CurvePublicKey(z85: publicZ85)
        secretBytes = secret
    }

    /// A new random key pair from libzmq (libsodium or tweetnacl underneath).
    public static func generate() throws(CurveError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else {
            throw .unavailable("zmq_curve_keypair failed: this libzmq has no CURVE support")
        }
        let secret = String(decoding: secretText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return try CurveKeyPair(secretZ85: secret)
    }

    /// The secret key as Z85 text, for writing the key file.
    public var secretZ85: String { CurveZ85.encode(secretBytes) }
}
