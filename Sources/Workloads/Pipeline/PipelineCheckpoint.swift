import Collectives
import Foundation
import NN
import Tensor

/// A pipeline's resumable state as one safetensors file: every stage's trained parameters
/// under `model.<name>` (the whole model's names) and each unit's optimizer state under
/// `optimizer.unit<i>.<entry>`, gathered to rank 0 from the first replica of every stage.
/// Keyed by unit, not by stage, so a re-formed pipeline may cut the model differently (an
/// automatic partition measured on other workers) and still resume exactly.
struct PipelineCheckpoint {
    let model: any PipelineModel
    let units: Range<Int>
    /// One optimizer per unit that has trainable parameters.
    let optimizers: [Int: any Optimizer]

    /// This stage's part: its units' parameters and optimizer state.
    func part() -> [(name: String, tensor: Tensor)] {
        var tensors: [(name: String, tensor: Tensor)] = []
        for unit in units {
            tensors += model.parameters(ofUnit: unit).map { ("model.\($0.name)", $0.tensor) }
            for entry in optimizers[unit]?.state ?? [] {
                tensors.append(("optimizer.unit\(unit).\(entry.name)", Tensor(shape: [entry.values.count], storage: Storage(entry.values))))
            }
        }
        return tensors
    }

    /// The whole checkpoint on rank 0 (nil on every other member): each stage's first
    /// replica sends its part; rank 0 adds them to its own. `round` keeps gathers apart.
    func gather(layout: PipelineLayout, communicator: Communicator?, round: Int, step: Int, metadata: [String: String]) throws -> Data? {
        let bytes = try Safetensors.encode(part())
        if layout.rank != 0 {
            guard layout.replica == 0, let communicator else { return nil }
            try communicator.send(Self.lengthFloats(bytes.count), to: 0, key: PipelineMessage.checkpointLength.key(step: round))
            try communicator.send(Self.floats(bytes), to: 0, key: PipelineMessage.checkpoint.key(step: round))
            return nil
        }
        var all = try Safetensors.decode(bytes, source: "stage 0's checkpoint part").tensors
        for stage in 1..<layout.stages {
            let peer = layout.rank(stage: stage, replica: 0)
            let length = try communicator!.receive(from: peer, key: PipelineMessage.checkpointLength.key(step: round), count: 2)
            let byteCount = Int(length[0].bitPattern) | Int(length[1].bitPattern) << 32
            guard byteCount >= 0, byteCount <= 1 << 33 else { throw TaskError("stage \(stage) announced a checkpoint part of \(byteCount) bytes", retryable: true) }
            let floats = try communicator!.receive(from: peer, key: PipelineMessage.checkpoint.key(step: round), count: (byteCount + 3) / 4)
            let data = floats.withUnsafeBytes { Data($0.prefix(byteCount)) }
            all.merge(try Safetensors.decode(data, source: "stage \(stage)'s checkpoint part").tensors) { $1 }
        }
        let ordered = all.keys.sorted().map { (name: $0, tensor: all[$0]!) }
        return try Safetensors.encode(ordered, metadata: metadata.merging(["orrery.step": "\(step)"]) { $1 })
    }

    /// Loads this stage's units from a whole checkpoint; returns its step.
    /// - Throws: `TaskError` naming what the checkpoint lacks.
    func restore(_ data: Data) throws -> Int {
        let (tensors, _, metadata) = try Safetensors.decode(data, source: "pipeline checkpoint")
        guard let step = metadata["orrery.step"].flatMap(Int.init) else {
            throw TaskError("pipeline checkpoint has no orrery.step metadata", retryable: false)
        }
        for unit in units {
            for (name, parameter) in model.parameters(ofUnit: unit) {
                guard let saved = tensors["model.\(name)"], saved.shape == parameter.shape else {
                    throw TaskError("pipeline checkpoint lacks model.\(name) of shape \(parameter.shape)", retryable: false)
                }
                parameter.storage.withUnsafeMutableBufferPointer { target in
                    saved.storage.withUnsafeBufferPointer { _ = target.update(fromContentsOf: $0) }
                }
            }
            guard let optimizer = optimizers[unit] else { continue }
            let prefix = "optimizer.unit\(unit)."
            var state: [String: [Float]] = [:]
            for (name, tensor) in tensors where name.hasPrefix(prefix) {
                state[String(name.dropFirst(prefix.count))] = tensor.scalars
            }
            try optimizer.loadState(state)
        }
        return step
    }

    /// The trained parameters alone, from a whole checkpoint, for `save`.
    static func modelTensors(_ data: Data) throws -> [(name: String, tensor: Tensor)] {
        let tensors = try Safetensors.decode(data, source: "pipeline checkpoint").tensors
        return tensors.keys.sorted().filter { $0.hasPrefix("model.") }.map { (String($0.dropFirst("model.".count)), tensors[$0]!) }
    }

    private static func lengthFloats(_ count: Int) -> [Float] {
        [Float(bitPattern: UInt32(truncatingIfNeeded: count)), Float(bitPattern: UInt32(truncatingIfNeeded: count >> 32))]
    }

    private static func floats(_ data: Data) -> [Float] {
        var floats = [Float](repeating: 0, count: (data.count + 3) / 4)
        floats.withUnsafeMutableBytes { target in data.withUnsafeBytes { target.copyMemory(from: $0) } }
        return floats
    }
}
