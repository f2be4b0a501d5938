/// GPT-2's reversible map between bytes and printable characters: byte-level BPE
/// vocabularies spell every byte as one of these 256 characters, so that tokens are
/// printable strings (a space is `Ġ`, a newline `Ċ`).
enum ByteLevelAlphabet {
    /// The character standing for each byte.
    static let characters: [Unicode.Scalar] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for byte in printable { table[byte] = Unicode.Scalar(UInt32(byte))! }
        var next: UInt32 = 256
        for byte in 0..<256 where !printable.contains(byte) {
            table[byte] = Unicode.Scalar(next)!
            next += 1
        }
        return table
    }()

    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in characters.enumerated() { map[character] = UInt8(byte) }
        return map
    }()

    /// The bytes a token spells, or nil when it has a character outside the alphabet.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        for scalar in token.unicodeScalars {
            guard let byte = bytes[scalar] else { return nil }
            out.append(byte)
        }
        return out
    }
}
