/// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic 0x0000_08_NN with
/// NN the number of dimensions, then each dimension as u32) followed by unsigned bytes.
public struct IDXFile {
    public let dimensions: [Int]
    public let values: [UInt8]

    /// Reads an IDX file, gzipped or not, checking the header against the data size.
    public init(path: String) throws(DatasetError) {
        let bytes = try GzipFile.read(path)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08 else {
            throw DatasetError(path: path, "not an IDX file of unsigned bytes (bad magic number)")
        }
        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard rank >= 1, bytes.count >= headerSize else { throw DatasetError(path: path, "truncated IDX header") }
        dimensions = (0..<rank).map { axis in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * axis + $1]) }
        }
        let expected = dimensions.reduce(1, *)
        guard bytes.count - headerSize == expected else {
            throw DatasetError(
                path: path, "header says \(dimensions) (\(expected) bytes of data) but the file has \(bytes.count - headerSize)")
        }
        values = Array(bytes[headerSize...])
    }
}
