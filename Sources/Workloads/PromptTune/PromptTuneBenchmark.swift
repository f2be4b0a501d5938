import Foundation
import LanguageModels
import NN
import Tensor

/// Parameter-efficient tuning speed and memory on MiniLM, for `orrery bench prompt-tune`
/// beside Hugging Face PEFT (scripts/bench/peers/peft_tune.py) on the same model files,
/// prompt length, batch and sequence length: one step is the workload's own — forward with
/// the soft prompt (or LoRA adapters), cosine logits against 4 class vectors, cross-entropy,
/// backward, Adam — on a batch of texts that tokenize to exactly `tokens` ids each.
public enum PromptTuneBenchmark {
    public struct Shape: Sendable {
        public var batch = 16, tokens = 32, promptLength = 8, loraRank = 8, classes = 4
        public init() {}
    }

    /// The model and a batch, built once for every measurement.
    public final class Fixture {
        let encoder: SentenceEncoder
        let texts: [String]
        let targets: [Int]
        let shape: Shape

        public init(shape: Shape) throws {
            let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
            self.encoder = encoder
            self.shape = shape
            // Whole-word tokens of the common range, so each text is exactly tokens − 2 pieces.
            let words = (2000..<12_000).map { encoder.tokenizer.tokens[$0] }.filter { $0.allSatisfy(\.isLetter) && $0.count > 2 }
            texts = (0..<shape.batch).map { row in
                (0..<(shape.tokens - 2)).map { words[(row * 7919 + $0 * 104_729) % words.count] }.joined(separator: " ")
            }
            targets = (0..<shape.batch).map { $0 % shape.classes }
            let lengths = encoder.tokenizer.encodeBatch(texts).lengths
            guard Set(lengths) == [shape.tokens] else { throw TaskError("benchmark texts tokenize to \(Set(lengths)) ids, not \(shape.tokens)", retryable: false) }
        }

        func classifier(checkpointed: Bool = false) throws -> PromptedEncoderClassifier {
            try PromptedEncoderClassifier(
                encoder: encoder, template: "{text}", descriptions: (0..<shape.classes).map { "class \($0)" }, maxTextTokens: 512,
                checkpointed: checkpointed)
        }
    }

    /// Tuning steps per second over `steps` steps of `method` (soft-prompt or lora).
    public static func stepsPerSecond(_ method: String, fixture: Fixture, steps: Int, checkpointed: Bool = false) throws -> Double {
        let tuning: any TuningMethod
        switch method {
        case "soft-prompt":
            let classifier = try fixture.classifier(checkpointed: checkpointed)
            tuning = SoftPromptMethod(classifier: classifier, initial: try classifier.vocabularyEmbeddings(Array(2000..<(2000 + fixture.shape.promptLength))))
        default:
            // A fresh copy: adapters are attached to (and stay on) the model.
            let classifier = try PromptedEncoderClassifier(
                encoder: try SentenceEncoder(directory: SentenceEncoder.defaultDirectory), template: "{text}",
                descriptions: (0..<fixture.shape.classes).map { "class \($0)" }, maxTextTokens: 512)
            tuning = LoRAMethod(classifier: classifier, rank: fixture.shape.loraRank, alpha: 16, seed: 1)
        }
        let optimizer = Adam(parameters: tuning.parameters.map(\.tensor), learningRate: 1e-3)
        let started = Date()
        for _ in 0..<steps {
            tuning.parameters.forEach { $0.tensor.zeroGrad() }
            try Tensor.crossEntropy(logits: tuning.logits(fixture.texts), targets: fixture.targets).backward()
            optimizer.step()
        }
        return Double(steps) / Date().timeIntervalSince(started)
    }

    /// The process's peak resident memory (VmHWM) in bytes while `body` ran: the peak is
    /// reset to the current resident size first (`/proc/self/clear_refs`, Linux ≥ 4.0), so
    /// a phase is not charged for an earlier one (loading the model, say).
    public static func peakResidentBytes(during body: () throws -> Void) rethrows -> Int {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        try body()
        return residentBytes("VmHWM:")
    }

    /// A size line of /proc/self/status in bytes (0 when unreadable).
    static func residentBytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// Resident bytes with the model loaded, then the peak during 3 inference passes (no
    /// gradients) with the soft prompt, then the peak during 3 tuning steps on the same
    /// batch: what tuning adds over inference.
    public static func memory(fixture: Fixture, checkpointed: Bool) throws -> (loaded: Int, inference: Int, tuning: Int) {
        let classifier = try fixture.classifier(checkpointed: checkpointed)
        let prompt = SoftPromptMethod(classifier: classifier, initial: try classifier.vocabularyEmbeddings(Array(2000..<(2000 + fixture.shape.promptLength))))
        let loaded = residentBytes("VmRSS:")
        let inference = try peakResidentBytes {
            for _ in 0..<3 { _ = try withNoGrad { try prompt.logits(fixture.texts) } }
        }
        let optimizer = Adam(parameters: prompt.parameters.map(\.tensor), learningRate: 1e-3)
        let tuning = try peakResidentBytes {
            for _ in 0..<3 {
                prompt.prompt.vectors.zeroGrad()
                try Tensor.crossEntropy(logits: prompt.logits(fixture.texts), targets: fixture.targets).backward()
                optimizer.step()
            }
        }
        return (loaded, inference, tuning)
    }
}
