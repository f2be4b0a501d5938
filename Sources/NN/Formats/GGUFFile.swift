import Foundation
import Tensor

/// A GGUF v3 file (llama.cpp's format) opened by memory mapping: metadata key/values, tensor
/// infos, then tensor data aligned to `general.alignment` (32 by default).
///
/// Dimensions are stored fastest-first, so a GGUF `[576, 1536]` is read here as the
/// row-major shape [1536, 576]. Tensors are F32, F16, Q4_1 or Q8_0; `tensor(_:)`
/// dequantizes to float32, and `quantizedMatrix(_:)` keeps a block-encoded tensor as it lies
/// in the mapping, for products that read it in place. Every read is bounds-checked: a truncated or corrupt file fails
/// with an error naming the file and what was wrong.
public struct GGUFFile: @unchecked Sendable {
    /// Where one tensor lives and how it is encoded.
    public struct TensorInfo: Sendable {
        public let name: String
        public let type: GGMLType
        /// Row-major shape (GGUF's dimensions reversed).
        public let shape: [Int]
        /// Offset of the first byte from the start of the file.
        public let fileOffset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    public let tensorInfos: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    let data: Data

    public init(path: String) throws(TensorError) {
        try self.init(data: MappedFile.read(path), source: path)
    }

    public init(data: Data, source: String) throws(TensorError) {
        path = source
        self.data = data
        var reader = Reader(data: data, source: source)
        guard try reader.bytes(4) == Array("GGUF".utf8) else {
            throw TensorError(.badFile(path: source, detail: "not a GGUF file (magic is not 'GGUF')"))
        }
        version = try reader.scalar(UInt32.self)
        guard version == 3 else { throw TensorError(.badFile(path: source, detail: "GGUF version \(version), only 3 is supported")) }
        let tensorCount = try reader.count("tensor count"), keyCount = try reader.count("metadata count")
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<keyCount {
            let key = try reader.string()
            metadata[key] = try reader.value(type: reader.scalar(UInt32.self), key: key)
        }
        self.metadata = metadata
        var pending: [(name: String, type: GGMLType, shape: [Int], offset: Int)] = []
        for _ in 0..<tensorCount {
            let name = try reader.string()
            let rank = try reader.scalar(UInt32.self)
            guard rank >= 1, rank <= 4 else { throw TensorError(.badFile(path: source, detail: "tensor '\(name)' has \(rank) dimensions")) }
            var dimensions: [Int] = []
            for _ in 0..<rank { dimensions.append(try reader.count("dimension of '\(name)'")) }
            let rawType = try reader.scalar(UInt32.self)
            guard let type = GGMLType(rawValue: rawType) else {
                throw TensorError(.badFile(path: source, detail: "tensor '\(name)' has ggml type \(rawType), which Orrery does not read (F32, F16, Q4_1, Q8_0)"))
            }
            guard dimensions[0] % type.blockSize == 0 else {
                throw TensorError(.badFile(path: source, detail: "tensor '\(name)' rows of \(dimensions[0]) do not fill \(type) blocks"))
            }
            pending.append((name, type, dimensions.reversed(), try reader.count("offset of '\(name)'")))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0 else { throw TensorError(.badFile(path: source, detail: "general.alignment is \(alignment)")) }
        let dataStart = (reader.position + alignment - 1) / alignment * alignment
        var infos: [String: TensorInfo] = [:]
        for tensor in pending {
            let info = TensorInfo(name: tensor.name, type: tensor.type, shape: tensor.shape, fileOffset: dataStart + tensor.offset)
            let end = info.fileOffset + tensor.type.byteCount(of: info.count)
            guard end <= data.count else {
                throw TensorError(.badFile(path: source, detail: "tensor '\(tensor.name)' ends at byte \(end) but the file has \(data.count): truncated?"))
            }
            infos[tensor.name] = info
        }
        tensorInfos = infos
        tensorNames = pending.map(\.name)
    }

    public func info(_ name: String) throws(TensorError) -> TensorInfo {
        guard let info = tensorInfos[name] else {
            throw TensorError(.badFile(path: path, detail: "no tensor named '\(name)'"))
        }
        return info
    }

    /// The tensor `name` dequantized to float32.
    public func tensor(_ name: String) throws(TensorError) -> Tensor {
        let info = try info(name)
        if info.type.blockFormat != nil { return try quantizedMatrix(name).dequantized().reshaped(Shape(info.shape)) }
        let storage = Storage(count: info.count)
        data.withUnsafeBytes { raw in
            storage.withUnsafeMutableBufferPointer { info.type.dequantize(raw.baseAddress! + info.fileOffset, count: info.count, into: $0.baseAddress!) }
        }
        return Tensor(shape: Shape(info.shape), storage: storage)
    }

    /// The block-encoded tensor `name` as a matrix [elements / last dimension, last
    /// dimension] read in place from the mapped file.
    /// - Throws: when the tensor is not block-encoded (F32, F16).
    public func quantizedMatrix(_ name: String) throws(TensorError) -> QuantizedMatrix {
        let info = try info(name)
        guard let format = info.type.blockFormat, let columns = info.shape.last else {
            throw TensorError(.badFile(path: path, detail: "tensor '\(name)' is \(info.type), not block-encoded (Q4_1, Q8_0)"))
        }
        return try QuantizedMatrix(format: format, rows: info.count / columns, columns: columns, data: data, offset: info.fileOffset)
    }

    // MARK: Metadata

    public func int(_ key: String) throws(TensorError) -> Int {
        guard let value = metadata[key]?.int else { throw missing(key, "an integer") }
        return value
    }

    public func double(_ key: String) throws(TensorError) -> Double {
        guard let value = metadata[key]?.double else { throw missing(key, "a number") }
        return value
    }

    public func string(_ key: String) throws(TensorError) -> String {
        guard let value = metadata[key]?.string else { throw missing(key, "a string") }
        return value
    }

    public func strings(_ key: String) throws(TensorError) -> [String] {
        guard let values = metadata[key]?.array?.compactMap(\.string), values.count == metadata[key]?.array?.count else {
            throw missing(key, "an array of strings")
        }
        return values
    }

    public func ints(_ key: String) throws(TensorError) -> [Int] {
        guard let values = metadata[key]?.array?.compactMap(\.int), values.count == metadata[key]?.array?.count else {
            throw missing(key, "an array of integers")
        }
        return values
    }

    private func missing(_ key: String, _ kind: String) -> TensorError {
        TensorError(.badFile(path: path, detail: metadata[key] == nil ? "no metadata key '\(key)'" : "metadata '\(key)' is not \(kind)"))
    }
}

extension GGUFFile {
    /// A bounds-checked little-endian cursor over the header.
    struct Reader {
        let data: Data
        let source: String
        var position = 0

        init(data: Data, source: String) {
            self.data = data
            self.source = source
        }

        mutating func bytes(_ count: Int) throws(TensorError) -> [UInt8] {
            guard count >= 0, position + count <= data.count else {
                throw TensorError(.badFile(path: source, detail: "header ends early at byte \(position) (needs \(count) more of \(data.count)): truncated?"))
            }
            defer { position += count }
            let start = data.startIndex + position
            return Array(data[start..<(start + count)])
        }

        mutating func scalar<T: FixedWidthInteger>(_: T.Type) throws(TensorError) -> T {
            let raw = try bytes(MemoryLayout<T>.size)
            return raw.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
        }

        /// A u64 count or offset that must fit in memory: bounded by the file size, so a
        /// corrupt length cannot make the reader allocate without end.
        mutating func count(_ what: String) throws(TensorError) -> Int {
            let value = try scalar(UInt64.self)
            guard value <= UInt64(data.count) * 8 else {
                throw TensorError(.badFile(path: source, detail: "\(what) is \(value), impossible in a file of \(data.count) bytes: corrupt header"))
            }
            return Int(value)
        }

        mutating func string() throws(TensorError) -> String {
            let length = try count("string length")
            let raw = try bytes(length)
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw TensorError(.badFile(path: source, detail: "string at byte \(position - length) is not UTF-8"))
            }
            return text
        }

        mutating func value(type: UInt32, key: String) throws(TensorError) -> GGUFValue {
            switch type {
            case 0: return .unsigned(UInt64(try scalar(UInt8.self)))
            case 1: return .signed(Int64(try scalar(Int8.self)))
            case 2: return .unsigned(UInt64(try scalar(UInt16.self)))
            case 3: return .signed(Int64(try scalar(Int16.self)))
            case 4: return .unsigned(UInt64(try scalar(UInt32.self)))
            case 5: return .signed(Int64(try scalar(Int32.self)))
            case 6: return .float(Double(Float(bitPattern: try scalar(UInt32.self))))
            case 7: return .bool(try scalar(UInt8.self) != 0)
            case 8: return .string(try string())
            case 9:
                let elementType = try scalar(UInt32.self)
                let count = try count("array length of '\(key)'")
                var values: [GGUFValue] = []
                values.reserveCapacity(count)
                for _ in 0..<count { values.append(try value(type: elementType, key: key)) }
                return .array(values)
            case 10: return .unsigned(try scalar(UInt64.self))
            case 11: return .signed(try scalar(Int64.self))
            case 12: return .float(Double(bitPattern: try scalar(UInt64.self)))
            default: throw TensorError(.badFile(path: source, detail: "metadata '\(key)' has unknown value type \(type)"))
            }
        }
    }
}
