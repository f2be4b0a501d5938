import CZlib

/// Reads a whole file, gunzipping it when it is gzip (zlib reads plain files unchanged).
enum GzipFile {
    static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        guard let file = gzopen(path, "rb") else {
            throw DatasetError(path: path, "cannot open (missing? run scripts/fetch-data)")
        }
        defer { gzclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw DatasetError(path: path, "corrupt or truncated gzip data: \(message)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(count)])
        }
        return bytes
    }
}
