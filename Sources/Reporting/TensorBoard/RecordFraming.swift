/// TFRecord framing, the container of TensorBoard's event files: each record is its length
/// (8 bytes, little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked
/// CRC-32C of the data.
public enum RecordFraming {
    /// One record, ready to append to a file.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    /// The records in `bytes`, in order.
    /// - Throws: `ReportingError.corruptRecord` naming the offset of a record whose length
    ///   or data does not match its checksum, or that is cut short.
    public static func records(_ bytes: [UInt8]) throws(ReportingError) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw .corruptRecord(offset: offset, "a header cut short") }
            let header = Array(bytes[offset..<offset + 8])
            let length = header.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard readUInt32(bytes, at: offset + 8) == CRC32C.masked(header) else { throw .corruptRecord(offset: offset, "length checksum") }
            guard length <= UInt64(bytes.count - offset - 16) else { throw .corruptRecord(offset: offset, "data cut short") }
            let start = offset + 12, end = start + Int(length)
            let data = Array(bytes[start..<end])
            guard readUInt32(bytes, at: end) == CRC32C.masked(data) else { throw .corruptRecord(offset: offset, "data checksum") }
            records.append(data)
            offset = end + 4
        }
        return records
    }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
