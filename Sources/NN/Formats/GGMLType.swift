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
    public var blockSize: Int { blockFormat == nil ? 1 : BlockFormat.blockSize }

    /// Bytes per block: Q4_1 is fp16 d, fp16 m and 16 bytes of nibbles; Q8_0 is fp16 d and
    /// 32 signed bytes.
    public var bytesPerBlock: Int {
        if let blockFormat { return blockFormat.bytesPerBlock }
        return self == .f16 ? 2 : 4
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

    /// The block encoding of a quantized type (nil for F32 and F16).
    public var blockFormat: BlockFormat? {
        switch self {
        case .f32, .f16: nil
        case .q4_1: .q4_1
        case .q8_0: .q8_0
        }
    }

    /// Writes `count` float32 values decoded from `source` (a multiple of the block size).
    public func dequantize(_ source: UnsafeRawPointer, count: Int, into target: UnsafeMutablePointer<Float>) {
        if let blockFormat { return blockFormat.dequantize(source, count: count, into: target) }
        for i in 0..<count {
            target[i] = self == .f16
                ? Self.half(source, 2 * i)
                : Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    }

    @inline(__always)
    static func half(_ bytes: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}
