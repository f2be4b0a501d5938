import Foundation
import Tensor

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header mapping each tensor name to its dtype, shape and byte range, then the raw
/// little-endian data. PyTorch, JAX and Hugging Face read and write it.
public enum Safetensors {
    /// Writes `tensors` (F32) to `path`, in the order given.
    public static func save(_ tensors: [(name: String, tensor: Tensor)], to path: String, metadata: [String: String] = [:]) throws {
        try encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The bytes of a safetensors file holding `tensors` (F32), in the order given.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        try encode(raw: tensors.map { name, tensor in
            RawTensor(name: name, dtype: "F32", shape: tensor.shape.dimensions, bytes: tensor.storage.withUnsafeBufferPointer { Data(buffer: $0) })
        }, metadata: metadata)
    }

    /// One tensor's little-endian bytes with its dtype (F32, I8, …) and shape.
    public struct RawTensor {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let bytes: Data

        public init(name: String, dtype: String, shape: [Int], bytes: Data) {
            (self.name, self.dtype, self.shape, self.bytes) = (name, dtype, shape, bytes)
        }
    }

    /// The bytes of a safetensors file holding `tensors` of any dtype, in the order given.
    public static func encode(raw tensors: [RawTensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.bytes.count]]
            offset += tensor.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so that the data starts 8-byte aligned, as the Rust writer does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for tensor in tensors { file.append(tensor.bytes) }
        return file
    }

    /// Reads every F32 tensor of a safetensors file (other dtypes are skipped with their names
    /// listed in `skipped`). Memory-mapped while reading.
    public static func load(_ path: String) throws(TensorError) -> (tensors: [String: Tensor], skipped: [String]) {
        let (tensors, skipped, _) = try decode(MappedFile.read(path), source: path)
        return (tensors, skipped)
    }

    /// Reads every F32 tensor (and the metadata) of safetensors bytes; `source` names them
    /// in errors.
    public static func decode(_ data: Data, source path: String) throws(TensorError) -> (
        tensors: [String: Tensor], skipped: [String], metadata: [String: String]
    ) {
        let file = try SafetensorsFile(data: data, source: path)
        var tensors: [String: Tensor] = [:]
        var skipped: [String] = []
        for (name, entry) in file.entries {
            if entry.dtype == "F32" { tensors[name] = try file.tensor(name) } else { skipped.append(name) }
        }
        return (tensors, skipped.sorted(), file.metadata)
    }

    /// Copies saved values into a module's parameters by name; every parameter must be
    /// present with its shape.
    public static func load(_ path: String, into module: some Module) throws(TensorError) {
        try assign(load(path).tensors, to: module, source: path)
    }

    /// The same from the bytes of a file (weights sent over the network).
    public static func load(_ data: Data, source: String, into module: some Module) throws(TensorError) {
        try assign(decode(data, source: source).tensors, to: module, source: source)
    }

    private static func assign(_ tensors: [String: Tensor], to module: some Module, source path: String) throws(TensorError) {
        for (name, parameter) in module.namedParameters() {
            guard let saved = tensors[name] else {
                throw TensorError(.badFile(path: path, detail: "no tensor named '\(name)' (has: \(tensors.keys.sorted().prefix(8)))"))
            }
            guard saved.shape == parameter.shape else {
                throw TensorError(.badFile(path: path, detail: "'\(name)' is \(saved.shape) in the file, \(parameter.shape) in the model"))
            }
            parameter.storage.withUnsafeMutableBufferPointer { target in
                saved.storage.withUnsafeBufferPointer { source in _ = target.update(fromContentsOf: source) }
            }
        }
    }
}
