import Tensor

/// The element types of GGUF tensors that Orrery reads, with their block layouts
/// (ggml's `ggml_type` numbering). Quantized types store blocks of 32 weights that share a
/// scale (and, for Q4_1, a minimum).
public enum GGMLType: UInt32, Sendable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_1 = 3
    case q8_0 = 8

    /// Weights per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16: 1
        case .q4_1, .q8_0: 32
        }
    }

    /// Bytes per block: Q4_1 is fp16 d, fp16 m and 16 bytes of nibbles; Q8_0 is fp16 d and
    /// 32 signed bytes.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: 4
        case .f16: 2
        case .q4_1: 20
        case .q8_0: 34
        }
    }

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_1: "Q4_1"
        case .q8_0: "Q8_0"
        }
    }

    /// Bytes that `count` weights occupy (`count` a multiple of the block size).
    public func byteCount(of count: Int) -> Int { count / blockSize * bytesPerBlock }

    /// Writes `count` float32 values decoded from `source` (a multiple of the block size).
    public func dequantize(_ source: UnsafeRawPointer, count: Int, into target: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            for i in 0..<count { target[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count { target[i] = Self.half(source, 2 * i) }
        case .q8_0:
            for block in 0..<(count / 32) {
                let bytes = source + block * 34, out = target + block * 32
                let d = Self.half(bytes, 0)
                let q = (bytes + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { out[j] = Float(q[j]) * d }
            }
        case .q4_1:
            for block in 0..<(count / 32) {
                let bytes = source + block * 20, out = target + block * 32
                let (d, m) = (Self.half(bytes, 0), Self.half(bytes, 2))
                let nibbles = (bytes + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    out[j] = Float(nibbles[j] & 0x0F) * d + m
                    out[j + 16] = Float(nibbles[j] >> 4) * d + m
                }
            }
        }
    }

    @inline(__always)
    static func half(_ bytes: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}
