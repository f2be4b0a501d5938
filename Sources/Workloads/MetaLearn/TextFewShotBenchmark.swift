import Datasets
import Foundation
import LanguageModels
import Tensor

/// `wordnet-minilm`: few-shot text classification over WordNet's 45 lexicographer
/// categories (noun.animal, verb.motion, …), each gloss embedded by all-MiniLM-L6-v2
/// (frozen; mean pooling, L2-normalized, 384 values), with the categories split 27 / 6 / 12
/// between meta-train, meta-validation and meta-test by the image benchmark's fixed
/// shuffle. Every category also gets a description ("a definition of a noun about
/// animals") embedded the same way, for the zero-shot baseline.
///
/// Embedding every kept gloss takes tens of seconds, so the embeddings are cached in the
/// data cache, keyed by the glosses' count per category and the model's digest.
enum TextFewShotBenchmark {
    static let name = "wordnet-minilm"
    /// Glosses kept per category (a seeded sample; categories with fewer keep all).
    static let perCategory = 120
    /// all-MiniLM-L6-v2's embedding width: the values per example.
    static let width = 384

    static func load() throws -> FewShotBenchmark {
        let text = try LabeledText.load("wordnet-glosses")
        var generator = SplitMix64(seed: 45)
        var byClass = [[Int]](repeating: [], count: text.classes.count)
        for (index, target) in text.targets.enumerated() { byClass[target].append(index) }
        let kept = byClass.map { indices -> [Int] in
            var shuffled = indices
            shuffled.shuffle(using: &generator)
            return Array(shuffled.prefix(perCategory)).sorted()
        }
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        let sentences = kept.flatMap { $0.map { text.texts[$0] } }
        let descriptions = text.classes.map(describe)
        let cache = DataCache.path("fewshot/\(name)-\(perCategory)-\(try modelKey()).f32")
        let embedded = try cachedEmbeddings(sentences + descriptions, width: width, cache: cache, encoder: encoder)

        var pool = ClassPool(features: width)
        var offset = 0
        for (label, indices) in kept.enumerated() {
            pool.add(name: text.classes[label], source: text.classes[label], values: Array(embedded[(offset * width)..<((offset + indices.count) * width)]))
            offset += indices.count
        }
        let descriptionRows = (0..<descriptions.count).map { Array(embedded[((offset + $0) * width)..<((offset + $0 + 1) * width)]) }
        let splits = FewShotBenchmark.splitLabels(classes: text.classes.count, test: 12, validation: 6)
        return FewShotBenchmark(name: name, pool: pool, splits: splits, descriptions: descriptionRows)
    }

    /// "noun.animal" → "a definition of a noun about animal"; the few lexicographer names
    /// that are not topics get words.
    static func describe(_ category: String) -> String {
        guard let parts = parts(category) else { return category }
        return "a definition of a \(parts.partOfSpeech) about \(parts.topic)"
    }

    /// A lexicographer category's part of speech and topic in words ("noun.animal" →
    /// noun, animal); nil for a name without the dot.
    static func parts(_ category: String) -> (partOfSpeech: String, topic: String)? {
        let parts = category.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let partOfSpeech = ["noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"][parts[0]] ?? parts[0]
        let topic = ["Tops": "the most general concepts", "all": "any quality", "pert": "relations to nouns", "ppl": "participles"][parts[1]] ?? parts[1]
        return (partOfSpeech, topic)
    }

    private static func modelKey() throws -> String {
        let weights = (SentenceEncoder.defaultDirectory as NSString).appendingPathComponent("model.safetensors")
        let attributes = try FileManager.default.attributesOfItem(atPath: weights)
        // Its size names the file well enough for a cache of derived data;
        // the file itself is verified by sha256 when fetch-data installs it.
        return "\(attributes[.size] ?? 0)"
    }

    private static func cachedEmbeddings(_ sentences: [String], width: Int, cache: String, encoder: SentenceEncoder) throws -> [Float] {
        if let data = FileManager.default.contents(atPath: cache), data.count == sentences.count * width * 4 {
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        var values = [Float]()
        values.reserveCapacity(sentences.count * width)
        for start in stride(from: 0, to: sentences.count, by: 64) {
            values += try encoder.embed(Array(sentences[start..<min(start + 64, sentences.count)])).scalars
        }
        try FileManager.default.createDirectory(atPath: (cache as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = cache + ".tmp-\(getpid())"
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, cache)
        return values
    }
}
