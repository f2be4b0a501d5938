import Foundation
import Tensor

/// A trained model stored in int8: every linear weight (a rank-2 tensor named `…weight`)
/// as an I8 tensor of the same name with its per-output-channel scales beside it as F32
/// `…weight_scale`; everything else (biases, norms, convolutions, embeddings) stays F32.
/// About a quarter of the float file for an MLP, readable by any safetensors reader.
///
/// Loading puts the dequantized values (q · scale) in the float weights; quantizing the
/// model after (`quantizeToInt8()`) gives back exactly the stored int8 values, so a model
/// saved, loaded and quantized computes what the one that was saved computed.
public enum Int8Checkpoint {
    public static let metadataKey = "orrery.quantization"
    public static let scheme = "int8-per-output-channel"

    /// Whether a tensor is stored in int8.
    static func quantized(_ name: String, _ shape: [Int]) -> Bool { name.hasSuffix("weight") && shape.count == 2 }

    /// The int8 file of float `tensors` (a model's parameters, or a float safetensors file's).
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var raw: [Safetensors.RawTensor] = []
        for (name, tensor) in tensors {
            guard quantized(name, tensor.shape.dimensions) else {
                raw.append(.init(name: name, dtype: "F32", shape: tensor.shape.dimensions, bytes: tensor.storage.withUnsafeBufferPointer { Data(buffer: $0) }))
                continue
            }
            let matrix = try Int8Matrix(quantizing: tensor)
            raw.append(.init(name: name, dtype: "I8", shape: tensor.shape.dimensions, bytes: matrix.values.withUnsafeBufferPointer { Data(buffer: $0) }))
            raw.append(.init(name: name + "_scale", dtype: "F32", shape: [matrix.rows], bytes: matrix.scales.withUnsafeBufferPointer { Data(buffer: $0) }))
        }
        return try Safetensors.encode(raw: raw, metadata: metadata.merging([metadataKey: scheme]) { $1 })
    }

    /// Reads an int8 file into `module`'s parameters (dequantized) by name; every parameter
    /// must be there with its shape.
    public static func load(_ data: Data, source: String, into module: some Module) throws(TensorError) {
        let file = try SafetensorsFile(data: data, source: source)
        guard file.metadata[metadataKey] == scheme else {
            throw TensorError(.badFile(path: source, detail: "not an int8 checkpoint (metadata \(metadataKey) is not \(scheme))"))
        }
        for (name, parameter) in module.namedParameters() {
            guard let entry = file.entries[name] else { throw TensorError(.badFile(path: source, detail: "no tensor named '\(name)'")) }
            guard entry.shape == parameter.shape.dimensions else {
                throw TensorError(.badFile(path: source, detail: "'\(name)' is \(entry.shape) in the file, \(parameter.shape) in the model"))
            }
            let values: [Float]
            if entry.dtype == "I8" {
                let scales = try file.tensor(name + "_scale").scalars
                guard scales.count == entry.shape[0] else {
                    throw TensorError(.badFile(path: source, detail: "'\(name)_scale' has \(scales.count) scales for \(entry.shape[0]) rows"))
                }
                let matrix = try Int8Matrix(values: file.int8s(name), scales: scales, rows: entry.shape[0], columns: entry.shape[1])
                values = matrix.dequantized().scalars
            } else {
                values = try file.tensor(name).scalars
            }
            parameter.storage.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: values) }
        }
    }
}
