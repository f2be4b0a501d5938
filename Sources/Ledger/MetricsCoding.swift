import Foundation

/// Named numbers as compact bytes: a count, then per entry the name's UTF-8 length, the
/// name, and the value's IEEE bits, little-endian. Names are sorted, so equal metrics give
/// equal bytes. Far cheaper than JSON for the hundred thousand outcomes a second the
/// ledger records.
enum MetricsCoding {
    static func encode(_ metrics: [String: Double]) -> Data? {
        guard !metrics.isEmpty else { return nil }
        var bytes: [UInt8] = []
        append(UInt32(metrics.count), to: &bytes)
        for (name, value) in metrics.sorted(by: { $0.key < $1.key }) {
            let utf8 = Array(name.utf8)
            append(UInt32(utf8.count), to: &bytes)
            bytes += utf8
            append(value.bitPattern, to: &bytes)
        }
        return Data(bytes)
    }

    /// - Returns: nil when the bytes are not such an encoding (a damaged row).
    static func decode(_ data: Data?) -> [String: Double]? {
        guard let data, !data.isEmpty else { return [:] }
        let bytes = [UInt8](data)
        var offset = 0
        guard let count: UInt32 = read(bytes, &offset) else { return nil }
        var metrics: [String: Double] = [:]
        for _ in 0..<count {
            guard let length: UInt32 = read(bytes, &offset), offset + Int(length) <= bytes.count else { return nil }
            let name = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
            offset += Int(length)
            guard let bits: UInt64 = read(bytes, &offset) else { return nil }
            metrics[name] = Double(bitPattern: bits)
        }
        return offset == bytes.count ? metrics : nil
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func read<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: inout Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { return nil }
        var value = T.zero
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }
}
