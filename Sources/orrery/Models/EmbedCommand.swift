import ArgumentParser
import Foundation
import LanguageModels
import Tensor

/// `orrery embed`: sentence embeddings from all-MiniLM-L6-v2 on Orrery's engine.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed sentences with all-MiniLM-L6-v2 and print their cosine similarities (or the vectors as JSON).",
        discussion: """
            orrery embed "A man is eating food." "A man is eating a piece of bread."
            orrery embed --file sentences.txt --json > vectors.json
            The model comes from the data cache that scripts/fetch-data fills ($ORRERY_DATA).
            """)

    @Argument(help: "Sentences to embed.")
    var sentences: [String] = []

    @Option(help: "A file with one sentence per line (added after the arguments).")
    var file: String?

    @Option(help: "Model directory (model.safetensors, vocab.txt, config.json).")
    var model: String = SentenceEncoder.defaultDirectory

    @Flag(help: "Print the embeddings as JSON instead of the similarity table.")
    var json = false

    @Option(help: "Sentences per forward pass.")
    var batchSize = 32

    func run() throws {
        var texts = sentences
        if let file {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CommandFailure.exit("cannot read \(file)", code: CommandFailure.invalidInput)
            }
            texts += contents.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        guard !texts.isEmpty else { throw CommandFailure.exit("no sentences given", code: CommandFailure.invalidInput) }
        let encoder: SentenceEncoder
        do { encoder = try SentenceEncoder(directory: model) } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
        let start = Date()
        var vectors: [[Float]] = []
        for offset in stride(from: 0, to: texts.count, by: max(1, batchSize)) {
            let batch = Array(texts[offset..<min(texts.count, offset + max(1, batchSize))])
            let embedded = try encoder.embed(batch)
            let width = embedded.shape[1]
            let values = embedded.scalars
            vectors += (0..<batch.count).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
        }
        let seconds = Date().timeIntervalSince(start)
        if json {
            let rows = zip(texts, vectors).map { ["text": $0.0, "embedding": $0.1] as [String: Any] }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for (index, text) in texts.enumerated() {
            let preview = vectors[index].prefix(4).map { String(format: "%+.4f", $0) }.joined(separator: " ")
            print("[\(index)] \(preview) …  \(text)")
        }
        if texts.count > 1 {
            print("\ncosine similarity")
            for i in texts.indices {
                let row = texts.indices.map { j in String(format: "%6.3f", zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }) }
                print("[\(i)] " + row.joined(separator: " "))
            }
        }
        fflush(nil)
        FileHandle.standardError.write(Data(String(format: "%d sentences in %.3f s (%.1f sentences/s)\n", texts.count, seconds, Double(texts.count) / seconds).utf8))
    }
}
