import Datasets
import Foundation
import LanguageModels
import Tensor

/// Few-shot text classification over labeled-text sets with many classes, each text
/// embedded by all-MiniLM-L6-v2 (frozen; mean pooling, L2-normalized, 384 values), with
/// the classes split between meta-train, meta-validation and meta-test by the image
/// benchmark's fixed shuffle (12 : 6 : the rest of 45). Every class also gets a
/// description embedded the same way, for the zero-shot baseline and for prototypes that
/// count it as one more shot.
///
/// - `wordnet-minilm`: WordNet 3.0's 45 lexicographer categories (noun.animal, verb.motion, …),
///   glosses as texts; described as "a definition of a noun about animal".
/// - `topics-minilm`: the 40 English topic files of Debian's fortunes (art, computers, love,
///   …) and BBC News' 5 topics, 45 classes in all; described as "a quotation about love",
///   "a news article about sport". Two domains in one pool, so an episode may have to
///   tell a fortune about politics from a BBC article about politics.
///
/// Embedding every kept text takes tens of seconds, so the embeddings are cached in the
/// data cache, keyed by the benchmark, the texts' count per class and the model's file.
struct TextFewShotBenchmark: Sendable {
    let name: String
    /// The labeled-text sets pooled (`scripts/fetch-data`'s names), each with the prefix
    /// its class names get in the pool ("" for none).
    let sources: [(task: String, prefix: String)]
    /// A pooled class's description, from its name.
    let describe: @Sendable (String) -> String

    static let wordnet = TextFewShotBenchmark(name: "wordnet-minilm", sources: [("wordnet-glosses", "")], describe: describeWordNet)
    static let topics = TextFewShotBenchmark(
        name: "topics-minilm", sources: [("fortunes-topics", "fortune."), ("bbc-news", "news.")], describe: describeTopic)
    static let all = [wordnet, topics]
    static var names: [String] { all.map(\.name) }

    static func named(_ name: String) -> TextFewShotBenchmark? { all.first { $0.name == name } }

    /// Texts kept per class (a seeded sample; classes with fewer keep all).
    static let perCategory = 120
    /// all-MiniLM-L6-v2's embedding width: the values per example.
    static let width = 384

    func load() throws -> FewShotBenchmark {
        var generator = SplitMix64(seed: 45)
        var classes: [String] = [], kept: [[String]] = []
        for source in sources {
            let text = try LabeledText.load(source.task)
            var byClass = [[Int]](repeating: [], count: text.classes.count)
            for (index, target) in text.targets.enumerated() { byClass[target].append(index) }
            for (label, indices) in byClass.enumerated() {
                var shuffled = indices
                shuffled.shuffle(using: &generator)
                classes.append(source.prefix + text.classes[label])
                kept.append(Array(shuffled.prefix(Self.perCategory)).sorted().map { text.texts[$0] })
            }
        }
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        let descriptions = classes.map(describe)
        let cache = DataCache.path("fewshot/\(name)-\(Self.perCategory)-\(try Self.modelKey()).f32")
        let embedded = try Self.cachedEmbeddings(kept.flatMap { $0 } + descriptions, cache: cache, encoder: encoder)

        let width = Self.width
        var pool = ClassPool(features: width)
        var offset = 0
        for (label, texts) in kept.enumerated() {
            pool.add(name: classes[label], source: classes[label], values: Array(embedded[(offset * width)..<((offset + texts.count) * width)]))
            offset += texts.count
        }
        let descriptionRows = (0..<descriptions.count).map { Array(embedded[((offset + $0) * width)..<((offset + $0 + 1) * width)]) }
        let splits = FewShotBenchmark.splitLabels(classes: classes.count, test: classes.count * 4 / 15, validation: classes.count * 2 / 15)
        return FewShotBenchmark(name: name, pool: pool, splits: splits, descriptions: descriptionRows)
    }

    /// "noun.animal" → "a definition of a noun about animal"; the few lexicographer names
    /// that are not topics get words.
    static func describeWordNet(_ category: String) -> String {
        guard let parts = parts(category) else { return category }
        return "a definition of a \(parts.partOfSpeech) about \(parts.topic)"
    }

    /// A WordNet lexicographer category's part of speech and topic in words ("noun.animal"
    /// → noun, animal); nil for a name without the dot.
    static func parts(_ category: String) -> (partOfSpeech: String, topic: String)? {
        let parts = category.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let partOfSpeech = ["noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"][parts[0]] ?? parts[0]
        let topic = ["Tops": "the most general concepts", "all": "any quality", "pert": "relations to nouns", "ppl": "participles"][parts[1]] ?? parts[1]
        return (partOfSpeech, topic)
    }

    /// "fortune.men-women" → "a quotation about men and women", "news.tech" → "a news
    /// article about technology"; the file names that are not topics get words.
    static func describeTopic(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return name }
        let words = [
            "cookie": "fortune cookies", "definitions": "humorous definitions", "disclaimer": "disclaimers", "fortunes": "anything",
            "goedel": "self-reference", "knghtbrd": "life", "linuxcookie": "Linux", "men-women": "men and women",
            "miscellaneous": "miscellaneous things", "paradoxum": "paradoxes", "songs-poems": "songs and poems", "startrek": "Star Trek",
            "tao": "the Tao", "zippy": "Zippy the Pinhead", "tech": "technology", "linux": "Linux", "perl": "Perl",
        ][parts[1]] ?? parts[1]
        return parts[0] == "news" ? "a news article about \(words)" : "a quotation about \(words)"
    }

    private static func modelKey() throws -> String {
        let weights = (SentenceEncoder.defaultDirectory as NSString).appendingPathComponent("model.safetensors")
        let attributes = try FileManager.default.attributesOfItem(atPath: weights)
        // Its size names the file well enough for a cache of derived data;
        // the file itself is verified by sha256 when fetch-data installs it.
        return "\(attributes[.size] ?? 0)"
    }

    private static func cachedEmbeddings(_ sentences: [String], cache: String, encoder: SentenceEncoder) throws -> [Float] {
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
