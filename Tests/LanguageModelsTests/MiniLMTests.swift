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
}
