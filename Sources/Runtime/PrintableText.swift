/// Text that came from the network, made safe to print: control characters, NUL, newlines
/// and invalid UTF-8 become visible escapes, and long text is cut, so that a peer can
/// neither forge log lines nor fill a log with one field.
public enum PrintableText {
    /// `text` with every non-printable scalar written as `\u{…}` (newline as `\n`), cut
    /// to `limit` characters with a note of how much was left out.
    public static func escaped(_ text: String, limit: Int = 160) -> String {
        var out = ""
        var shown = 0
        var omitted = 0
        for scalar in text.unicodeScalars {
            if shown >= limit {
                omitted += 1
                continue
            }
            shown += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                    || scalar.properties.generalCategory == .format
                {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        if omitted > 0 { out += "… (\(omitted) more)" }
        return out
    }

    /// Bytes from the network as text: valid UTF-8 escaped as above; anything else as hex.
    public static func escaped(bytes: [UInt8], limit: Int = 160) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return escaped(text, limit: limit) }
        let shown = bytes.prefix(limit / 2).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return "0x" + shown + (bytes.count > limit / 2 ? "… (\(bytes.count) bytes)" : "")
    }
}
