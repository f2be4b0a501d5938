import CZeroMQ
import Runtime

/// A CURVE public key: the 32 bytes a peer proves it holds the secret half of.
///
/// Keys travel as Z85 text (40 characters) in files and flags, and as raw bytes in ZAP
/// requests and on the wire; both are checked here, once, so that nothing downstream sees
/// a key of the wrong length.
public struct CurvePublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 raw bytes.
    public let bytes: [UInt8]

    /// - Throws: `CurveError.malformedKey` unless `bytes` holds exactly 32 bytes.
    public init(bytes: [UInt8]) throws(CurveError) {
        guard bytes.count == 32 else { throw .malformedKey("a CURVE key is 32 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// Reads a key written in Z85 (40 characters of ZeroMQ's base-85 alphabet).
    public init(z85 text: String) throws(CurveError) {
        self = try CurvePublicKey(bytes: CurveZ85.decode(text))
    }

    /// The key as Z85 text, the form key files and allow-lists hold.
    public var z85: String { CurveZ85.encode(bytes) }

    /// A short name for logs: the first 16 hex digits of the key's SHA-256, like an SSH
    /// fingerprint. Logging the key itself would be harmless, but a digest is what
    /// operators compare against `orrery keygen`'s output.
    public var fingerprint: String {
        var digest = SHA256()
        bytes.withUnsafeBytes { digest.update($0) }
        return "SHA256:" + digest.finalize().prefix(16)
    }

    public var description: String { fingerprint }
}

/// ZeroMQ's Z85 text form of keys (RFC 32), through libzmq's own codec.
enum CurveZ85 {
    static func decode(_ text: String) throws(CurveError) -> [UInt8] {
        let trimmed = text.trimmingSpaces
        guard trimmed.utf8.count == 40 else {
            throw .malformedKey("a Z85 key is 40 characters, got \(trimmed.utf8.count)")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let decoded = bytes.withUnsafeMutableBufferPointer { buffer in
            zmq_z85_decode(buffer.baseAddress, trimmed) != nil
        }
        guard decoded else { throw .malformedKey("not Z85 text: characters outside ZeroMQ's base-85 alphabet") }
        return bytes
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, $0.count) }
        return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends (no Foundation in Messaging).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
