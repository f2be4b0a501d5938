import Tensor

/// Byte-level damage to a valid frame, the kinds a broken or hostile peer produces:
/// flipped bits, cut or doubled regions, inserted junk, varints rewritten to extremes,
/// and bytes that are not protobuf at all.
public struct FrameMutator {
    var random: SplitMix64

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// One damaged copy of `frame` (never longer than `maximumBytes`).
    public mutating func mutate(_ frame: [UInt8], maximumBytes: Int = 1 << 16) -> [UInt8] {
        var bytes = frame
        let rounds = 1 + Int(random.next() % 4)
        for _ in 0..<rounds {
            switch random.next() % 8 {
            case 0: flipBits(&bytes)
            case 1: truncate(&bytes)
            case 2: insertJunk(&bytes)
            case 3: duplicateRegion(&bytes)
            case 4: overwriteVarint(&bytes)
            case 5: deleteRegion(&bytes)
            case 6: bytes = Array(bytes.reversed())
            default: overwriteByte(&bytes)
            }
        }
        return Array(bytes.prefix(maximumBytes))
    }

    /// `count` random bytes.
    public mutating func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Start-group tags nested `depth` deep, then their ends: a parser that recurses once
    /// per level without a limit runs out of stack on it.
    public func deeplyNested(depth: Int) -> [UInt8] {
        Array(repeating: 0x5B, count: depth) + Array(repeating: 0x5C, count: depth)  // field 11, groups
    }

    /// Length-delimited fields nested `depth` deep (field 10, the envelope's first body).
    public func nestedMessages(depth: Int) -> [UInt8] {
        var inner: [UInt8] = []
        for _ in 0..<depth { inner = [0x52] + Self.varint(UInt64(inner.count)) + inner }
        return inner
    }

    public mutating func integer(below bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }

    public mutating func chance(_ percent: Int) -> Bool { Int(random.next() % 100) < percent }

    /// A value from the places bugs live: 0, 1, powers of two and their neighbours, maxima.
    public mutating func extremeUInt32() -> UInt32 {
        let picks: [UInt32] = [0, 1, 2, 7, 255, 256, 65_535, 65_536, 1 << 31, UInt32.max - 1, UInt32.max, 4_000_000_000]
        return chance(70) ? picks[integer(below: picks.count)] : UInt32(truncatingIfNeeded: random.next())
    }

    public mutating func extremeUInt64() -> UInt64 {
        let picks: [UInt64] = [0, 1, UInt64(UInt32.max), UInt64(UInt32.max) + 1, 1 << 62, UInt64(Int64.max), UInt64.max]
        return chance(70) ? picks[integer(below: picks.count)] : random.next()
    }

    public mutating func extremeDouble() -> Double {
        let picks: [Double] = [0, -0.0, 1, -1, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e300, -1e300]
        return chance(80) ? picks[integer(below: picks.count)] : Double(bitPattern: random.next())
    }

    /// Text with control characters, NUL, invalid-looking escapes, huge runs and emoji.
    public mutating func hostileText(maximumBytes: Int = 512) -> String {
        let pieces = ["\u{0}", "\n", "\r\n", "\u{1b}[31m", "../", "/etc/passwd", "%s%n", "\u{202e}", "😀", "{text}", "~", "null", "\\", "\u{7f}"]
        var text = ""
        for _ in 0..<(1 + integer(below: 12)) {
            text += chance(60) ? pieces[integer(below: pieces.count)] : String(repeating: "A", count: integer(below: 64))
        }
        if chance(5) { text += String(repeating: "x", count: integer(below: maximumBytes)) }
        return String(decoding: Array(text.utf8.prefix(maximumBytes)), as: UTF8.self)
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    private mutating func position(in bytes: [UInt8]) -> Int { integer(below: bytes.count + 1) }

    private mutating func flipBits(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        for _ in 0..<(1 + integer(below: 4)) { bytes[integer(below: bytes.count)] ^= UInt8(1 << integer(below: 8)) }
    }

    private mutating func truncate(_ bytes: inout [UInt8]) { bytes = Array(bytes.prefix(position(in: bytes))) }

    private mutating func insertJunk(_ bytes: inout [UInt8]) {
        bytes.insert(contentsOf: randomBytes(1 + integer(below: 16)), at: position(in: bytes))
    }

    private mutating func duplicateRegion(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let start = integer(below: bytes.count)
        let end = min(bytes.count, start + 1 + integer(below: 64))
        bytes.insert(contentsOf: bytes[start..<end], at: position(in: bytes))
    }

    private mutating func deleteRegion(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let start = integer(below: bytes.count)
        bytes.removeSubrange(start..<min(bytes.count, start + 1 + integer(below: 16)))
    }

    private mutating func overwriteVarint(_ bytes: inout [UInt8]) {
        let value = Self.varint(extremeUInt64())
        let at = position(in: bytes)
        bytes.replaceSubrange(at..<min(bytes.count, at + value.count), with: value)
    }

    private mutating func overwriteByte(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes[integer(below: bytes.count)] = [0x00, 0xFF, 0x80, 0x7F, 0x0A][integer(below: 5)]
    }
}
