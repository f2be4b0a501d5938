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
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            let bytes = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape.dimensions, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so that the data starts 8-byte aligned, as the Rust writer does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in tensors {
            tensor.storage.withUnsafeBufferPointer { file.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        }
        return file
    }

    /// Reads every F32 tensor of a safetensors file (other dtypes are skipped with their names
    /// listed in `skipped`). Memory-mapped while reading.
    public static func load(_ path: String) throws(TensorError) -> (tensors: [String: Tensor], skipped: [String]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TensorError(.badFile(path: path, detail: "cannot read: \(error.localizedDescription)"))
        }
        let (tensors, skipped, _) = try decode(data, source: path)
        return (tensors, skipped)
    }

    /// Reads every F32 tensor (and the metadata) of safetensors bytes; `source` names them
    /// in errors.
    public static func decode(_ data: Data, source path: String) throws(TensorError) -> (
        tensors: [String: Tensor], skipped: [String], metadata: [String: String]
    ) {
        guard data.count >= 8 else { throw TensorError(.badFile(path: path, detail: "too short for a safetensors header")) }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw TensorError(.badFile(path: path, detail: "header length \(headerLength) exceeds the file (\(data.count) bytes): truncated?"))
        }
        let headerEnd = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data[8..<headerEnd]) as? [String: Any] else {
            throw TensorError(.badFile(path: path, detail: "header is not a JSON object"))
        }
        var tensors: [String: Tensor] = [:]
        var skipped: [String] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw TensorError(.badFile(path: path, detail: "tensor '\(name)' has a malformed header entry"))
            }
            guard dtype == "F32" else {
                skipped.append(name)
                continue
            }
            let count = shape.reduce(1, *)
            let (start, end) = (headerEnd + offsets[0], headerEnd + offsets[1])
            guard offsets[0] >= 0, end - start == count * 4, end <= data.count else {
                throw TensorError(.badFile(
                    path: path, detail: "tensor '\(name)' of shape \(shape) claims bytes \(offsets) but needs \(count * 4) within \(data.count - headerEnd)"))
            }
            let storage = Storage(count: count)
            storage.withUnsafeMutableBufferPointer { target in
                data.withUnsafeBytes { raw in
                    for i in 0..<count {
                        target[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                    }
                }
            }
            tensors[name] = Tensor(shape: Shape(shape), storage: storage)
        }
        return (tensors, skipped.sorted(), header["__metadata__"] as? [String: String] ?? [:])
    }

    /// Copies saved values into a module's parameters by name; every parameter must be
    /// present with its shape.
    public static func load(_ path: String, into module: some Module) throws(TensorError) {
        let (tensors, _) = try load(path)
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
