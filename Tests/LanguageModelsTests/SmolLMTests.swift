import LanguageModels
import Tensor
import Testing

@Suite("SmolLM2 matches the reference")
struct SmolLMTests {
    let reference = Reference.shared.smollm2

    func lastLogits(_ model: CausalLanguageModel, _ ids: [Int]) throws -> [Float] {
        try withNoGrad {
            let hidden = try model.model.hiddenStates(model.model.embed(ids, batch: 1, length: ids.count))
            return try model.model.logits(hidden.sliced(axis: 1, (ids.count - 1)..<ids.count)).scalars
        }
    }

    @Test("Logits on a fixed prompt match numpy's: first 64 entries and the top 20 in order")
    func logitsMatch() throws {
        let ids = Models.smollm.tokenizer.encode(reference.logit_prompt)
        #expect(ids == reference.logit_prompt_ids)
        let logits = try lastLogits(Models.smollm, ids)
        for (actual, expected) in zip(logits.prefix(64), reference.last_logits_first_64) {
            #expect(abs(actual - expected) < 2e-3 * (1 + abs(expected)), "logit \(actual) vs \(expected)")
        }
        let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5)
        #expect(Array(top) == Array(reference.last_logits_top20.ids.prefix(5)))
        for (id, expected) in zip(reference.last_logits_top20.ids, reference.last_logits_top20.values) {
            #expect(abs(logits[id] - expected) < 2e-3 * (1 + abs(expected)))
        }
    }

    @Test("Greedy continuations: \"The capital of France is\" → \" Paris\", \"One, two, three, four,\" → \" five, six, seven\"")
    func greedy() throws {
        let model = Models.smollm
        for (prompt, expected) in [("The capital of France is", " Paris"), ("One, two, three, four,", " five, six, seven")] {
            let generated = try model.generate(model.tokenizer.encode(prompt), maxTokens: 8)
            let text = model.tokenizer.decode(generated)
            #expect(text.hasPrefix(expected), "\(prompt) → \(text.debugDescription)")
            #expect(generated == reference.greedy[prompt]?.ids, "numpy's greedy ids")
        }
    }

    @Test("Seeded sampling repeats exactly and differs between seeds")
    func sampling() throws {
        let model = Models.smollm
        let prompt = model.tokenizer.encode(model.chat.prompt(user: "Write a short poem about the sea."))
        func sample(_ seed: UInt64) throws -> [Int] {
            try model.generate(prompt, maxTokens: 12, sampler: Sampler(temperature: 1.0, topK: 40, topP: 0.95, seed: seed))
        }
        let first = try sample(7)
        #expect(try sample(7) == first)
        #expect(try sample(8) != first)
    }

    @Test("Log-likelihoods of continuations match numpy's; the cached prefix gives the same scores as recomputing")
    func likelihoods() throws {
        let model = Models.smollm
        let tokenizer = model.tokenizer
        let prompt = tokenizer.encode(reference.likelihood_prompt)
        let items = reference.likelihood_continuations.map { (context: [Int](), continuation: tokenizer.encode($0)) }
        let cached = try model.logLikelihoods(prefix: prompt, items: items)
        for (actual, expected) in zip(cached, reference.log_likelihoods) { #expect(abs(actual - expected) < 5e-3, "\(actual) vs \(expected)") }
        // Split the prompt into a shared prefix and per-item contexts of different lengths.
        let cut = prompt.count / 2
        let mixed = [
            (context: Array(prompt[cut...]), continuation: tokenizer.encode(" positive")),
            (context: Array(prompt[cut...]) + tokenizer.encode(" very"), continuation: tokenizer.encode(" negative review")),
        ]
        let reused = try model.logLikelihoods(prefix: Array(prompt[..<cut]), items: mixed)
        let recomputed = try model.logLikelihoods(prefix: Array(prompt[..<cut]), items: mixed, reusePrefix: false)
        #expect(abs(reused[0] - cached[0]) < 2e-3)
        for (a, b) in zip(reused, recomputed) { #expect(abs(a - b) < 2e-3, "\(a) vs \(b)") }
    }

    /// Last logits after feeding `ids` one token at a time through the cache: every product
    /// has one row, so quantized weights take the integer path.
    func decodedLogits(_ model: CausalLanguageModel, _ ids: [Int]) throws -> [Float] {
        try withNoGrad {
            let cache = model.model.makeCache()
            var hidden = Tensor.zeros([1])
            for id in ids { hidden = try model.model.hiddenStates(model.model.embed([id], batch: 1, length: 1), cache: cache) }
            return try model.model.logits(hidden).scalars
        }
    }

    @Test("Weights kept quantized and multiplied in place: prefill as dequantized, decode near numpy's logits with its first choice, in a fraction of the memory")
    func quantizedMode() throws {
        let quantized = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, mode: .quantized)
        let ids = reference.logit_prompt_ids
        // The hidden states of a prefill (decoded panels: the same products as dequantized weights).
        var hidden: [[Float]] = []
        for model in [quantized, Models.smollm] {
            hidden.append(try withNoGrad { try model.model.hiddenStates(model.model.embed(ids, batch: 1, length: ids.count)).scalars })
        }
        #expect(zip(hidden[0], hidden[1]).allSatisfy { abs($0 - $1) < 1e-3 })
        #expect(quantized.model.weightBytes * 5 < Models.smollm.model.weightBytes)
        // Decode (activations rounded to int8 per block × Q4_1 / Q8_0 blocks, as llama.cpp
        // multiplies): numpy's first choice, four of its top five, and every logit checked
        // within 0.5 (3% of the top logit; the activations' rounding costs 0.1–0.3 here, where
        // the dequantized model is held to 0.2%).
        let decoded = try decodedLogits(quantized, ids)
        var worst: Float = 0
        for (actual, expected) in zip(decoded.prefix(64), reference.last_logits_first_64) { worst = max(worst, abs(actual - expected)) }
        for (id, expected) in zip(reference.last_logits_top20.ids, reference.last_logits_top20.values) { worst = max(worst, abs(decoded[id] - expected)) }
        #expect(worst < 0.5, "worst logit error \(worst)")
        let top = decoded.indices.sorted { decoded[$0] > decoded[$1] }.prefix(5)
        #expect(top.first == reference.last_logits_top20.ids.first)
        #expect(Set(top).intersection(reference.last_logits_top20.ids.prefix(5)).count >= 4)
        let generated = try quantized.generate(quantized.tokenizer.encode("The capital of France is"), maxTokens: 8)
        #expect(quantized.tokenizer.decode(generated).hasPrefix(" Paris"))
    }
}
