import LanguageModels
import NN
import OrreryTestSupport
import Tensor
import Testing

/// Gradients through the frozen pretrained models reach the input embeddings (what soft
/// prompts train), checked against finite differences on models cut to their first two
/// layers, and leave the weights without gradients.
@Suite("Gradients through frozen models")
struct FrozenGradientTests {
    @Test("SmolLM2 (2 layers): d hidden states / d input embeddings matches finite differences")
    func llamaInputGradient() throws {
        let model = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, layerLimit: 2).model
        let ids = Models.smollm.tokenizer.encode("Soft prompts learn")
        let input = try withNoGrad { try model.embed(ids, batch: 1, length: ids.count) } * 20
        let mismatches = try GradientCheck.mismatches([input], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try model.hiddenStates(inputs[0])
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("SmolLM2 (2 layers): gradients through a KV-cached prefix reach the prefix's embeddings")
    func llamaCachedGradient() throws {
        let model = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, layerLimit: 2).model
        var generator = SplitMix64(seed: 3)
        let prefix = Tensor.normal([1, 2, 576], using: &generator)
        let suffix = Tensor.normal([1, 2, 576], using: &generator)
        let mismatches = try GradientCheck.mismatches([prefix], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            let cache = model.makeCache()
            _ = try model.hiddenStates(inputs[0], cache: cache)
            return try model.hiddenStates(suffix, cache: cache)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("MiniLM (2 layers, padded batch): d sentence embedding / d input embeddings matches finite differences")
    func bertInputGradient() throws {
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory, layerLimit: 2)
        let batch = encoder.tokenizer.encodeBatch(["soft prompts", "a b"])
        let input = try withNoGrad { try encoder.model.embed(batch) } * 10
        let mismatches = try GradientCheck.mismatches([input], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try encoder.encode(inputs[0], lengths: batch.lengths)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // Frozen: the backward pass above gave no weight a gradient.
        #expect(encoder.model.parameters.allSatisfy { $0.grad == nil })
    }
}
