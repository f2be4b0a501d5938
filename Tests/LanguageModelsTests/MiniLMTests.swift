import LanguageModels
import Tensor
import Testing

@Suite("MiniLM sentence embeddings match the reference")
struct MiniLMTests {
    @Test("Every reference sentence, embedded in one padded batch, has cosine > 0.9999 with numpy's embedding")
    func embeddingsMatch() throws {
        let reference = Reference.shared.minilm
        let embeddings = try Models.minilm.embed(reference.sentences)
        #expect(embeddings.shape == [reference.sentences.count, 384])
        let rows = embeddings.scalars
        for (index, expected) in reference.embeddings.enumerated() {
            let row = Array(rows[(index * 384)..<((index + 1) * 384)])
            #expect(cosine(row, expected) > 0.9999, "\(reference.sentences[index])")
        }
    }

    @Test("cos(\"A man is eating food.\", \"A man is eating a piece of bread.\") ≈ 0.755, and padding changes nothing")
    func similarity() throws {
        let pair = try Models.minilm.embed(["A man is eating food.", "A man is eating a piece of bread."]).scalars
        let value = cosine(Array(pair[0..<384]), Array(pair[384...]))
        #expect(abs(value - 0.755) < 0.002)
        #expect(abs(value - Reference.shared.minilm.cosine_food_bread) < 1e-4)
        // The shorter sentence alone (no padding) embeds the same as in the batch.
        let alone = try Models.minilm.embed(["A man is eating food."]).scalars
        #expect(cosine(alone, Array(pair[0..<384])) > 0.99999)
    }

    @Test("MiniLM with int8 linear layers: every reference sentence within cosine 0.99 of float32, and of numpy's embedding")
    func int8Embeddings() throws {
        let reference = Reference.shared.minilm
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        try encoder.model.quantizeToInt8()
        let rows = try encoder.embed(reference.sentences).scalars
        let float = try Models.minilm.embed(reference.sentences).scalars
        for (index, expected) in reference.embeddings.enumerated() {
            let row = Array(rows[(index * 384)..<((index + 1) * 384)])
            #expect(cosine(row, Array(float[(index * 384)..<((index + 1) * 384)])) >= 0.99, "\(reference.sentences[index])")
            #expect(cosine(row, expected) >= 0.99, "\(reference.sentences[index])")
        }
        // Dropping the int8 copies gives back float32's embeddings exactly.
        encoder.model.dropInt8()
        #expect(try encoder.embed(reference.sentences).scalars == float)
    }

    @Test("MiniLM pruned to half its heads and feed-forward neurons: narrower projections, fewer parameters, embeddings still close; LoRA attaches, merges and int8 quantizes after")
    func pruning() throws {
        let reference = Reference.shared.minilm
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        let before = encoder.model.parameterCount
        try encoder.model.prune(heads: 0.5, feedForward: 0.5)
        for layer in encoder.model.layers {
            #expect(layer.attention.heads == 6 && layer.attention.query.weight.shape == [192, 384] && layer.attention.output.weight.shape == [384, 192])
            #expect(layer.expand.weight.shape == [768, 384] && layer.contract.weight.shape == [384, 768])
        }
        // Per layer: 3 projections lose 192 rows (and biases), the output 192 columns, the feed-forward 768 neurons each way.
        #expect(before - encoder.model.parameterCount == 6 * (3 * (192 * 384 + 192) + 384 * 192 + 2 * 768 * 384 + 768))
        #expect(encoder.model.parameters.allSatisfy { !$0.requiresGrad })
        let float = try Models.minilm.embed(reference.sentences).scalars
        let pruned = try encoder.embed(reference.sentences).scalars
        let similarities = (0..<reference.sentences.count).map { index in
            cosine(Array(pruned[(index * 384)..<((index + 1) * 384)]), Array(float[(index * 384)..<((index + 1) * 384)]))
        }
        // Data-free pruning of half the model moves the embeddings (fine-tuning is for that),
        // but they stay the same kind of vector, far from unrelated ones (cosine ~0).
        #expect(similarities.allSatisfy { $0 > 0.5 }, "\(similarities)")
        encoder.model.attachAdapters(rank: 4, alpha: 8, seed: 1)
        #expect(encoder.model.adapterParameters().contains { $0.tensor.shape == [192, 4] })
        try encoder.model.mergeAdapters()
        try encoder.model.quantizeToInt8()
        let int8 = try encoder.embed(reference.sentences).scalars
        #expect(cosine(Array(int8[0..<384]), Array(pruned[0..<384])) >= 0.99)
        #expect(throws: TensorError.self) { try encoder.model.prune(heads: 0, feedForward: 1) }
    }
}
