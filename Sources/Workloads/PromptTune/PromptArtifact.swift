import Foundation
import NN
import Runtime
import Tensor

/// Tuned prompts, adapters and probes as safetensors files that name the base model they
/// belong to (its weights' sha256): a prompt is meaningless on another model, so loading
/// one checks the digest, the width and the length before anything trains from it.
enum PromptArtifact {
    static let modelKey = "orrery.base_model"
    static let digestKey = "orrery.base_model_sha256"
    static let methodKey = "orrery.method"

    static func save(
        _ tensors: [(name: String, tensor: Tensor)], to path: String, model: String, modelSHA256: String, method: String,
        extra: [String: String] = [:]
    ) throws -> String {
        let data = try Safetensors.encode(
            tensors, metadata: extra.merging([modelKey: model, digestKey: modelSHA256, methodKey: method]) { $1 })
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw TaskError("cannot write \(path): \(error.localizedDescription)", retryable: false)
        }
        var hash = SHA256()
        hash.update(data)
        return hash.finalize()
    }

    /// The `prompt` tensor [length, width] of a saved file made for the model with digest
    /// `modelSHA256`.
    /// - Throws: a non-retryable `TaskError` naming the file and what does not match.
    static func loadPrompt(_ path: String, modelSHA256: String, length: Int, width: Int) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TaskError("prompt file \(path) cannot be read: \(error.localizedDescription)", retryable: false)
        }
        let decoded: (tensors: [String: Tensor], skipped: [String], metadata: [String: String])
        do { decoded = try Safetensors.decode(data, source: path) } catch {
            throw TaskError("prompt file \(path) is not safetensors: \(error)", retryable: false)
        }
        guard let digest = decoded.metadata[digestKey] else {
            throw TaskError("prompt file \(path) does not say which model it was tuned for (no \(digestKey))", retryable: false)
        }
        guard digest == modelSHA256 else {
            throw TaskError(
                "prompt file \(path) was tuned for the model with sha256 \(digest.prefix(16))…, this job's model is \(modelSHA256.prefix(16))…",
                retryable: false)
        }
        guard let prompt = decoded.tensors["prompt"] else { throw TaskError("prompt file \(path) holds no 'prompt' tensor", retryable: false) }
        guard prompt.shape == [length, width] else {
            throw TaskError("prompt file \(path) holds a prompt of shape \(prompt.shape); this job needs [\(length), \(width)]", retryable: false)
        }
        return prompt
    }
}
