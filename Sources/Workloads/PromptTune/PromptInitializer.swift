import Foundation
import LanguageModels
import Tensor
import Wire

/// Where a soft prompt starts: the vectors [P, width] a task's `PromptInitialization`
/// names, built from the model's own embedding table.
///
/// - random: normal, with the spread of the common tokens' embeddings (so the prompt is as
///   loud as words are);
/// - vocabulary: the embeddings of P common tokens drawn with the seed (Lester et al.);
/// - text: the embeddings of the text's tokens, repeated to fill P (or cut);
/// - search-report: as text, from the winner of a prompt-search report (its instruction,
///   or its template's words when it has none) — prompt search feeding prompt tuning;
/// - file: a prompt saved by an earlier tuning or meta-training job for the same model.
struct PromptInitializer {
    static let kinds = ["random", "vocabulary", "text", "search-report", "file"]

    let classifier: any PromptableClassifier
    let length: Int
    let modelSHA256: String
    let model: String

    /// What an initialization produced: the vectors, and for a search report, the accuracy
    /// it reported for its winner on the test examples.
    struct Start {
        var vectors: Tensor
        var searchReportedAccuracy: Double?
    }

    func start(_ initialization: Orrery_V1_Workloads_PromptInitialization, seed: UInt64, resolve: (String) throws -> String) throws -> Start {
        switch initialization.kind {
        case "random": return Start(vectors: try random(seed: seed))
        case "vocabulary": return Start(vectors: try vocabulary(seed: seed))
        case "text": return Start(vectors: try text(initialization.text))
        case "search-report":
            let winner = try SearchReportWinner(path: resolve(initialization.path), model: model, modelSHA256: modelSHA256)
            return Start(vectors: try text(winner.promptText), searchReportedAccuracy: winner.testAccuracy)
        case "file":
            return Start(vectors: try PromptArtifact.loadPrompt(
                resolve(initialization.path), modelSHA256: modelSHA256, length: length, width: classifier.inputWidth))
        default:
            throw TaskError("prompt-tune task: unknown init '\(initialization.kind)'; known: \(Self.kinds.joined(separator: ", "))", retryable: false)
        }
    }

    /// Common tokens: past the special and single-character ones that open both vocabularies.
    private var commonTokens: Range<Int> {
        let start = min(2000, classifier.vocabularySize / 4)
        return start..<min(classifier.vocabularySize, start + 5000)
    }

    private func random(seed: UInt64) throws -> Tensor {
        let sample = try classifier.vocabularyEmbeddings(Array(commonTokens.prefix(1000))).scalars
        let mean = sample.reduce(0, +) / Float(sample.count)
        let spread = (sample.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(sample.count)).squareRoot()
        var generator = SplitMix64(seed: seed ^ 0x5EED_9A0D)
        return Tensor.normal([length, classifier.inputWidth], standardDeviation: spread, using: &generator)
    }

    private func vocabulary(seed: UInt64) throws -> Tensor {
        var generator = SplitMix64(seed: seed ^ 0x0B0C_AB17)
        let range = commonTokens
        let ids = (0..<length).map { _ in range.lowerBound + Int(generator.next() % UInt64(range.count)) }
        return try classifier.vocabularyEmbeddings(ids)
    }

    private func text(_ words: String) throws -> Tensor {
        let rows = try classifier.tokenEmbeddings(words)
        let count = rows.shape[0]
        guard count > 0 else { throw TaskError("prompt-tune task: the init text '\(words.prefix(60))' has no tokens", retryable: false)  }
        let width = classifier.inputWidth
        let values = rows.scalars
        var filled = [Float]()
        filled.reserveCapacity(length * width)
        for row in 0..<length { filled += values[((row % count) * width)..<((row % count + 1) * width)] }
        return try Tensor(filled, shape: [length, width])
    }
}

/// The winning prompt of a prompt-search job, read from its report.json.
struct SearchReportWinner {
    let instruction: String
    let template: String
    let verbalizers: [String]
    let testAccuracy: Double?

    private struct Report: Decodable {
        struct Entry: Decodable {
            let instruction: String
            let template: String
            let verbalizers: [String]
        }
        struct Test: Decodable {
            struct Accuracy: Decodable { let estimate: Double }
            let role: String
            let accuracy: Accuracy
        }
        let scorer: String
        let modelSHA256: String
        let leaderboard: [Entry]
        let test: [Test]
    }

    init(path: String, model: String, modelSHA256: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TaskError("prompt-search report \(path) cannot be read: \(error.localizedDescription)", retryable: false)
        }
        let report: Report
        do { report = try JSONDecoder().decode(Report.self, from: data) } catch {
            throw TaskError("\(path) is not a prompt-search report.json: \(error)", retryable: false)
        }
        guard report.scorer == model, report.modelSHA256 == modelSHA256 else {
            throw TaskError("prompt-search report \(path) was scored with \(report.scorer) (sha256 \(report.modelSHA256.prefix(16))…); this job tunes \(model)", retryable: false)
        }
        guard let best = report.leaderboard.first else { throw TaskError("prompt-search report \(path) has an empty leaderboard", retryable: false) }
        instruction = best.instruction
        template = best.template
        verbalizers = best.verbalizers
        testAccuracy = report.test.first { $0.role == "best" }?.accuracy.estimate
    }

    /// The words that start the soft prompt: the winner's instruction, else its template's
    /// words, else its class descriptions.
    var promptText: String {
        let candidates = [instruction, template.replacingOccurrences(of: "{text}", with: " "), verbalizers.joined(separator: ", ")]
        return candidates.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.first { !$0.isEmpty } ?? ""
    }
}
