import CKernels

/// A block encoding of weights (ggml's): 32 consecutive weights of a row share an fp16
/// scale, and Q4_1 also an fp16 minimum. The bytes are the file's, so a model read from a
/// GGUF file multiplies with them as they lie in the mapping (`QuantizedMatrix`).
public enum BlockFormat: Sendable, CustomStringConvertible {
    /// w = d·q + m with q a nibble: 20 bytes per 32 weights (5 bits a weight).
    case q4_1
    /// w = d·q with q an int8: 34 bytes per 32 weights (8.5 bits a weight).
    case q8_0

    /// Weights per block.
    public static let blockSize = 32

    public var bytesPerBlock: Int { Int(orrery_block_bytes(code)) }

    /// Bytes that `count` weights occupy (a multiple of the block size).
    public func byteCount(of count: Int) -> Int { count / Self.blockSize * bytesPerBlock }

    public var description: String {
        switch self {
        case .q4_1: "Q4_1"
        case .q8_0: "Q8_0"
        }
    }

    /// Writes the `count` floats encoded at `source` (a multiple of the block size).
    public func dequantize(_ source: UnsafeRawPointer, count: Int, into target: UnsafeMutablePointer<Float>) {
        orrery_dequantize_blocks(code, source, count / Self.blockSize, target)
    }

    var code: Int32 {
        switch self {
        case .q4_1: ORRERY_FORMAT_Q4_1
        case .q8_0: ORRERY_FORMAT_Q8_0
        }
    }
}
