import Foundation
import NN
import Tensor

/// A training loop's resumable state as safetensors bytes: named parameters under
/// `model.`, the optimizer's state under `optimizer.`, the step in the metadata, and any
/// state the loop's caller keeps besides (a `CheckpointCompanion`'s tensors) under `kept.`.
/// What `train` and `meta-learn` commit to the coordinator, so a re-formed gang resumes
/// exactly where the last checkpoint left off.
enum TrainingCheckpoint {
    static func encode(
        parameters: [(name: String, tensor: Tensor)], optimizer: any Optimizer, step: Int, metadata: [String: String] = [:],
        kept: [(name: String, tensor: Tensor)] = []
    ) throws -> Data {
        let model = parameters.map { (name: "model.\($0.name)", tensor: $0.tensor) }
        let state = optimizer.state.map { (name: "optimizer.\($0.name)", tensor: Tensor(shape: [$0.values.count], storage: Storage($0.values))) }
        let extra = kept.map { (name: "kept.\($0.name)", tensor: $0.tensor) }
        return try Safetensors.encode(model + state + extra, metadata: metadata.merging(["orrery.step": "\(step)"]) { $1 })
    }

    /// What a checkpoint held besides the parameters and optimizer state it restored.
    struct Restored {
        let step: Int
        let metadata: [String: String]
        /// The `kept.` tensors, by name without the prefix.
        let kept: [String: Tensor]
    }

    /// Loads a checkpoint into `parameters` (in place) and `optimizer`; returns its step.
    /// - Throws: `TaskError` naming what the checkpoint lacks.
    static func restore(_ data: Data, parameters: [(name: String, tensor: Tensor)], optimizer: any Optimizer) throws -> Int {
        try restoreWithMetadata(data, parameters: parameters, optimizer: optimizer).step
    }

    /// `restore`, also returning the checkpoint's metadata (a loop's own records, such as a
    /// NAS trial's dev curve) and kept tensors, from the one decoding.
    static func restoreWithMetadata(
        _ data: Data, parameters: [(name: String, tensor: Tensor)], optimizer: any Optimizer
    ) throws -> Restored {
        let (tensors, _, metadata) = try Safetensors.decode(data, source: "checkpoint")
        guard let step = metadata["orrery.step"].flatMap(Int.init) else {
            throw TaskError("checkpoint has no orrery.step metadata", retryable: false)
        }
        for (name, parameter) in parameters {
            guard let saved = tensors["model.\(name)"], saved.shape == parameter.shape else {
                throw TaskError("checkpoint lacks model.\(name) of shape \(parameter.shape)", retryable: false)
            }
            parameter.storage.withUnsafeMutableBufferPointer { target in
                saved.storage.withUnsafeBufferPointer { _ = target.update(fromContentsOf: $0) }
            }
        }
        var state: [String: [Float]] = [:]
        for (name, tensor) in tensors where name.hasPrefix("optimizer.") {
            state[String(name.dropFirst("optimizer.".count))] = tensor.storage.withUnsafeBufferPointer { Array($0) }
        }
        try optimizer.loadState(state)
        var kept: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix("kept.") { kept[String(name.dropFirst("kept.".count))] = tensor }
        return Restored(step: step, metadata: metadata, kept: kept)
    }
}
