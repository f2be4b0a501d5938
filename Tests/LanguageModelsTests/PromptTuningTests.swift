import LanguageModels
import NN
import OrreryTestSupport
import Tensor
import Testing

/// What prompt tuning trains against: gradients reach the soft prompt (and LoRA's
/// adapters) and match finite differences on the real models cut to two layers, the
/// pretrained weights get none, and LoRA merged computes what LoRA unmerged computed.
@Suite("Prompt tuning on the frozen models")
struct PromptTuningTests {
    static let texts = ["the team won the cup final", "shares fell as profits dropped"]

    static func miniLM() throws -> PromptedEncoderClassifier {
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory, layerLimit: 2)
        return try PromptedEncoderClassifier(encoder: encoder, template: "News: {text}", descriptions: ["sport", "business", "politics"])
    }

    @Test("MiniLM (2 layers): d class logits / d soft prompt matches finite differences, and no weight gets a gradient")
    func miniLMPromptGradient() throws {
        let classifier = try Self.miniLM()
        let initial = try classifier.tokenEmbeddings("a news article") * 10
        let mismatches = try GradientCheck.mismatches([initial], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try classifier.logits(Self.texts, prompt: inputs[0])
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // Frozen: not one weight of the model was given a gradient buffer.
        #expect(classifier.encoder.model.parameters.allSatisfy { $0.grad == nil })
    }

    @Test("SmolLM2 (2 layers): d verbalizer logits / d soft prompt matches finite differences (its weights are plain frozen matrices)")
    func smolLMPromptGradient() throws {
        let model = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, layerLimit: 2)
        let classifier = try PromptedLikelihoodClassifier(model: model, template: "Text: {text}\nTopic:", verbalizers: [" sport", " business"])
        let initial = try classifier.tokenEmbeddings(" topic") * 20
        let mismatches = try GradientCheck.mismatches([initial], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try classifier.logits(["goal!", "the markets rallied today"], prompt: inputs[0])
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("A soft prompt goes after [CLS] for MiniLM and first for SmolLM2, and changes the logits; no prompt is the discrete prompt")
    func promptPlacement() throws {
        let embeddings = try Tensor((0..<12).map(Float.init), shape: [2, 3, 2])
        let prompt = try Tensor([100, 101], shape: [1, 2])
        let inserted = try SoftPrompt.insert(prompt, into: embeddings, at: 1)
        #expect(inserted.shape == [2, 4, 2])
        #expect(Array(inserted.scalars[0..<8]) == [0, 1, 100, 101, 2, 3, 4, 5])
        #expect(Array(try SoftPrompt.insert(prompt, into: embeddings, at: 0).scalars[8..<12]) == [100, 101, 6, 7])
        #expect(throws: TensorError.self) { try SoftPrompt.insert(prompt, into: embeddings, at: 4) }

        let classifier = try Self.miniLM()
        let plain = try classifier.logits(Self.texts, prompt: nil).scalars
        let zeroShot = try EmbeddingClassifier(encoder: classifier.encoder).scores(
            template: "News: {text}", texts: Self.texts, descriptions: ["sport", "business", "politics"])
        for (row, scores) in zeroShot.enumerated() {
            for (column, cosine) in scores.enumerated() { #expect(abs(Double(plain[row * 3 + column]) / 20 - cosine) < 1e-5) }
        }
        let prompted = try classifier.logits(Self.texts, prompt: classifier.tokenEmbeddings("finance")).scalars
        #expect(zip(plain, prompted).contains { abs($0 - $1) > 1e-3 })
    }

    @Test("P-tuning's reparameterized prompt starts exactly at its initialization, and its gradients match finite differences")
    func reparameterization() throws {
        var generator = SplitMix64(seed: 5)
        let initial = Tensor.normal([3, 8], using: &generator)
        let encoder = PromptReparameterization(initial: initial, hidden: 6, using: &generator)
        #expect(try encoder.prompt().scalars == initial.scalars)
        // Move W₂ off zero so that every parameter matters, then check them all.
        encoder.contract.weight.storage.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = Float(i % 7) * 0.1 - 0.3 } }
        let mismatches = try GradientCheck.parameterMismatches(encoder.parameters) { try encoder.prompt().tanh() }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("LoRA on MiniLM (2 layers): adapters start as a no-op, their gradients match finite differences, and merged weights give the unmerged forward")
    func loraMergeAndGradient() throws {
        let classifier = try Self.miniLM()
        let model = classifier.encoder.model
        let before = try classifier.logits(Self.texts, prompt: nil).scalars
        model.attachAdapters(rank: 2, alpha: 4, seed: 3)
        #expect(try classifier.logits(Self.texts, prompt: nil).scalars == before)
        let adapters = model.adapterParameters()
        #expect(adapters.count == 8)
        #expect(adapters.map(\.name).contains("encoder.layer.1.attention.self.value.lora_B"))
        // B starts at zero (no-op); give it values so that A's gradient is not zero too.
        var generator = SplitMix64(seed: 8)
        for (name, tensor) in adapters where name.hasSuffix("lora_B") {
            let values = Tensor.normal(tensor.shape, standardDeviation: 0.05, using: &generator).scalars
            tensor.storage.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = values[i] } }
        }
        let mismatches = try GradientCheck.parameterMismatches(adapters.map(\.tensor), epsilon: 1e-2, tolerance: 3e-2, stride: 37) {
            try classifier.logits(Self.texts, prompt: nil)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(model.parameters.allSatisfy { $0.grad == nil })

        let unmerged = try withNoGrad { try classifier.logits(Self.texts, prompt: nil).scalars }
        #expect(zip(unmerged, before).contains { abs($0 - $1) > 1e-3 }, "the adapters changed nothing")
        try model.mergeAdapters()
        #expect(model.adapterParameters().isEmpty)
        let merged = try withNoGrad { try classifier.logits(Self.texts, prompt: nil).scalars }
        for (a, b) in zip(merged, unmerged) { #expect(abs(a - b) < 1e-4 * (1 + abs(b)), "merged \(a) vs unmerged \(b)") }
    }

    @Test("LoRA on SmolLM2 (2 layers): query and value adapters' gradients match finite differences, and merged weights give the unmerged forward")
    func llamaLoRA() throws {
        let model = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, layerLimit: 2)
        let classifier = try PromptedLikelihoodClassifier(model: model, template: "Text: {text}\nTopic:", verbalizers: [" sport", " business"])
        let texts = ["goal!", "the markets rallied today"]
        let before = try classifier.logits(texts, prompt: nil).scalars
        model.model.attachAdapters(rank: 2, alpha: 4, seed: 3)
        #expect(try classifier.logits(texts, prompt: nil).scalars == before)
        let adapters = model.model.adapterParameters()
        #expect(adapters.map(\.name) == ["blk.0.attn_q.lora_A", "blk.0.attn_q.lora_B", "blk.0.attn_v.lora_A", "blk.0.attn_v.lora_B",
            "blk.1.attn_q.lora_A", "blk.1.attn_q.lora_B", "blk.1.attn_v.lora_A", "blk.1.attn_v.lora_B"])
        var generator = SplitMix64(seed: 8)
        for (name, tensor) in adapters where name.hasSuffix("lora_B") {
            let values = Tensor.normal(tensor.shape, standardDeviation: 0.05, using: &generator).scalars
            tensor.storage.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = values[i] } }
        }
        let mismatches = try GradientCheck.parameterMismatches(adapters.map(\.tensor), epsilon: 1e-2, tolerance: 3e-2, stride: 53) {
            try classifier.logits(texts, prompt: nil)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        let unmerged = try withNoGrad { try classifier.logits(texts, prompt: nil).scalars }
        #expect(zip(unmerged, before).contains { abs($0 - $1) > 1e-3 }, "the adapters changed nothing")
        try model.model.mergeAdapters()
        #expect(model.model.adapterParameters().isEmpty)
        let merged = try withNoGrad { try classifier.logits(texts, prompt: nil).scalars }
        for (a, b) in zip(merged, unmerged) { #expect(abs(a - b) < 1e-3 * (1 + abs(b)), "merged \(a) vs unmerged \(b)") }
    }

    @Test("Gradient checkpointing (MiniLM, 2 layers): the prompt's and LoRA adapters' gradients equal the recorded run's, and match finite differences")
    func checkpointedGradients() throws {
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory, layerLimit: 2)
        let descriptions = ["sport", "business", "politics"]
        let plain = try PromptedEncoderClassifier(encoder: encoder, template: "News: {text}", descriptions: descriptions)
        let checkpointed = try PromptedEncoderClassifier(encoder: encoder, template: "News: {text}", descriptions: descriptions, checkpointed: true)
        encoder.model.attachAdapters(rank: 2, alpha: 4, seed: 3)
        var generator = SplitMix64(seed: 8)
        let adapters = encoder.model.adapterParameters().map(\.tensor)
        for tensor in adapters where tensor.shape[1] == 2 {  // B [out, r]: off zero
            let values = Tensor.normal(tensor.shape, standardDeviation: 0.05, using: &generator).scalars
            tensor.storage.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = values[i] } }
        }
        func gradients(_ classifier: PromptedEncoderClassifier) throws -> [[Float]] {
            let prompt = try (classifier.tokenEmbeddings("a news article") * 10).requiringGrad()
            adapters.forEach { $0.zeroGrad() }
            try (classifier.logits(Self.texts, prompt: prompt) * Tensor.normal([2, 3], using: &generator)).sum().backward()
            return [try #require(prompt.grad).scalars] + adapters.map { $0.grad?.scalars ?? [] }
        }
        let seedState = generator
        let recorded = try gradients(plain)
        generator = seedState
        let recomputed = try gradients(checkpointed)
        #expect(recorded.count == recomputed.count && recorded.allSatisfy { !$0.isEmpty })
        for (a, b) in zip(recorded, recomputed) {
            #expect(a.count == b.count, "a gradient is missing with checkpointing")
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($0)) }, "checkpointing changed a gradient")
        }
        let mismatches = try GradientCheck.mismatches([try plain.tokenEmbeddings("finance") * 10], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try checkpointed.logits(Self.texts, prompt: inputs[0])
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(encoder.model.parameters.allSatisfy { $0.grad == nil })
    }

    @Test("Gradient checkpointing (SmolLM2, 2 layers): the prompt's and LoRA adapters' gradients equal the recorded run's")
    func llamaCheckpointedGradients() throws {
        let model = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, layerLimit: 2)
        let make = { (checkpointed: Bool) in
            try PromptedLikelihoodClassifier(model: model, template: "Text: {text}\nTopic:", verbalizers: [" sport", " business"], checkpointed: checkpointed)
        }
        model.model.attachAdapters(rank: 2, alpha: 4, seed: 3)
        let adapters = model.model.adapterParameters().map(\.tensor)
        var generator = SplitMix64(seed: 8)
        for tensor in adapters where tensor.shape[1] == 2 {
            let values = Tensor.normal(tensor.shape, standardDeviation: 0.05, using: &generator).scalars
            tensor.storage.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] = values[i] } }
        }
        func gradients(_ classifier: PromptedLikelihoodClassifier) throws -> [[Float]] {
            let prompt = try (classifier.tokenEmbeddings(" topic") * 20).requiringGrad()
            adapters.forEach { $0.zeroGrad() }
            try classifier.logits(["goal!", "the markets rallied today"], prompt: prompt).sum().backward()
            return [try #require(prompt.grad).scalars] + adapters.map { $0.grad?.scalars ?? [] }
        }
        let recorded = try gradients(try make(false)), recomputed = try gradients(try make(true))
        #expect(recorded.allSatisfy { !$0.isEmpty })
        for (a, b) in zip(recorded, recomputed) {
            #expect(a.count == b.count, "a gradient is missing with checkpointing")
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($0)) }, "checkpointing changed a gradient")
        }
    }
}
