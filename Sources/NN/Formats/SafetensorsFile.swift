import Foundation
import Tensor

/// A safetensors file opened by memory mapping: the header is parsed once, and each tensor
/// is read from the mapped bytes only when asked for, so a caller that needs a few tensors
/// of a large file touches only their pages.
///
/// Reads F32 tensors (as `Tensor`) and I64 tensors (as `[Int64]`, e.g. BERT's
/// `position_ids`). Every error names the file and the tensor.
public struct SafetensorsFile: @unchecked Sendable {
    /// One header entry: dtype, shape and byte range within the data section.
    public struct Entry: Sendable {
        public let dtype: String
        public let shape: [Int]
        public let byteRange: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    /// Maps `path` and parses its header.
    public init(path: String) throws(TensorError) {
        try self.init(data: MappedFile.read(path), source: path)
    }

    /// Parses safetensors bytes already in memory; `source` names them in errors.
    public init(data: Data, source: String) throws(TensorError) {
        path = source
        self.data = data
        guard data.count >= 8 else { throw TensorError(.badFile(path: source, detail: "too short for a safetensors header")) }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw TensorError(.badFile(path: source, detail: "header length \(headerLength) exceeds the file (\(data.count) bytes): truncated?"))
        }
        dataStart = 8 + Int(headerLength)
        let start = data.startIndex
        guard let header = try? JSONSerialization.jsonObject(with: data[(start + 8)..<(start + dataStart)]) as? [String: Any] else {
            throw TensorError(.badFile(path: source, detail: "header is not a JSON object"))
        }
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1]
            else {
                throw TensorError(.badFile(path: source, detail: "tensor '\(name)' has a malformed header entry"))
            }
            guard dataStart + offsets[1] <= data.count else {
                throw TensorError(.badFile(
                    path: source, detail: "tensor '\(name)' ends at byte \(dataStart + offsets[1]) but the file has \(data.count): truncated?"))
            }
            if let size = Self.elementSize[dtype], shape.reduce(1, *) * size != offsets[1] - offsets[0] {
                throw TensorError(.badFile(
                    path: source, detail: "tensor '\(name)' of shape \(shape) (\(dtype)) claims \(offsets[1] - offsets[0]) bytes"))
            }
            entries[name] = Entry(dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
        }
        self.entries = entries
        metadata = header["__metadata__"] as? [String: String] ?? [:]
    }

    private static let elementSize = ["F32": 4, "I64": 8, "F16": 2, "BF16": 2, "I32": 4, "U8": 1, "I8": 1, "F64": 8]

    private func entry(_ name: String, dtype: String) throws(TensorError) -> Entry {
        guard let entry = entries[name] else {
            throw TensorError(.badFile(path: path, detail: "no tensor named '\(name)' (has \(entries.count) tensors, e.g. \(entries.keys.sorted().prefix(4)))"))
        }
        guard entry.dtype == dtype else {
            throw TensorError(.badFile(path: path, detail: "tensor '\(name)' is \(entry.dtype), expected \(dtype)"))
        }
        return entry
    }

    /// The F32 tensor `name`, copied out of the mapping into a tensor of its own.
    public func tensor(_ name: String) throws(TensorError) -> Tensor {
        let entry = try entry(name, dtype: "F32")
        let count = entry.shape.reduce(1, *)
        let storage = Storage(count: count)
        let offset = dataStart + entry.byteRange.lowerBound
        storage.withUnsafeMutableBufferPointer { target in
            data.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count * 4)])
                #if _endian(little)
                    _ = bytes.copyBytes(to: target)
                #else
                    for i in 0..<count { target[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                #endif
            }
        }
        return Tensor(shape: Shape(entry.shape), storage: storage)
    }

    /// The I8 tensor `name`, flattened.
    public func int8s(_ name: String) throws(TensorError) -> [Int8] {
        let entry = try entry(name, dtype: "I8")
        let offset = dataStart + entry.byteRange.lowerBound
        return data.withUnsafeBytes { raw in (0..<entry.byteRange.count).map { raw.load(fromByteOffset: offset + $0, as: Int8.self) } }
    }

    /// The I64 tensor `name`, flattened.
    public func int64s(_ name: String) throws(TensorError) -> [Int64] {
        let entry = try entry(name, dtype: "I64")
        let offset = dataStart + entry.byteRange.lowerBound
        return data.withUnsafeBytes { raw in
            (0..<(entry.byteRange.count / 8)).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: Int64.self)) }
        }
    }
}
