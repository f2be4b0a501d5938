import Datasets
import Foundation
import Tensor
import Wire

/// Prompt search on the K-shot examples alone (the "true few-shot" setting of Perez et
/// al., 2021: no dev set beyond the shots): every template × class-description pattern ×
/// prototype choice of the space is scored on the shots, and the best is kept. Best means
/// the most shots right; ties (frequent with 16 shots) go to the higher mean
/// log-probability of the right class, then to the earlier candidate, so the spec's first
/// template and pattern — the untuned prompt — wins when nothing is better.
struct DiscreteSearch {
    /// The chosen prompt and what it scored on the shots.
    struct Choice {
        let prompt: DiscretePrompt
        let shotAccuracy: Double
        let meanLogProbability: Double
        /// Candidates scored; a candidate the model cannot tell apart (two SmolLM2
        /// verbalizers with one first token) is skipped.
        let scored: Int
    }

    let candidates: [DiscretePrompt]

    /// The candidates of `space` for a problem's classes, templates varying slowest.
    /// - Throws: a pattern's placeholder the classes cannot fill ({topic} of a class that
    ///   is not a WordNet category).
    init(_ space: Orrery_V1_Workloads_DiscreteSearchSpace, classes: [String], descriptions: [String]) throws(TaskError) {
        var candidates: [DiscretePrompt] = []
        for template in space.templates {
            for pattern in space.descriptions {
                let filled = try Self.fill(pattern, classes: classes, descriptions: descriptions)
                for prototypes in space.prototypes {
                    candidates.append(DiscretePrompt(template: template, descriptions: filled, pattern: pattern, prototypes: prototypes))
                }
            }
        }
        self.candidates = candidates
    }

    /// The placeholders a description pattern may use.
    static let placeholders = ["{class}", "{description}", "{topic}", "{pos}"]

    /// `pattern` filled in for every class.
    static func fill(_ pattern: String, classes: [String], descriptions: [String]) throws(TaskError) -> [String] {
        var filled: [String] = []
        for (label, name) in classes.enumerated() {
            var text = pattern.replacingOccurrences(of: "{class}", with: name)
                .replacingOccurrences(of: "{description}", with: descriptions[label])
            if text.contains("{topic}") || text.contains("{pos}") {
                guard let parts = TextFewShotBenchmark.parts(name) else {
                    throw TaskError("discrete search: pattern '\(pattern)' needs a WordNet category, and class '\(name)' is not one", retryable: false)
                }
                text = text.replacingOccurrences(of: "{topic}", with: parts.topic).replacingOccurrences(of: "{pos}", with: parts.partOfSpeech)
            }
            filled.append(text)
        }
        return filled
    }

    /// The best candidate on `shots`.
    /// - Throws: when no candidate can be scored (the first candidate's error).
    func choose(shots: LabeledText, scorer: any FewShotPromptScorer) throws -> Choice {
        var best: (prompt: DiscretePrompt, accuracy: Double, logProbability: Double)?
        var scored = 0
        var firstError: TensorError?
        for prompt in candidates {
            let logits: [[Float]]
            do { logits = try scorer.shotLogits(prompt, shots: shots) } catch {
                firstError = firstError ?? error
                continue
            }
            scored += 1
            let (accuracy, logProbability) = Self.judge(logits, targets: shots.targets)
            if let current = best, (accuracy, logProbability) <= (current.accuracy, current.logProbability) { continue }
            best = (prompt, accuracy, logProbability)
        }
        guard let best else {
            throw TaskError("discrete search: no candidate could be scored (\(firstError.map { "\($0)" } ?? "the space is empty"))", retryable: false)
        }
        return Choice(prompt: best.prompt, shotAccuracy: best.accuracy, meanLogProbability: best.logProbability, scored: scored)
    }

    /// Accuracy and mean log-softmax probability of the right class.
    static func judge(_ logits: [[Float]], targets: [Int]) -> (accuracy: Double, logProbability: Double) {
        var right = 0
        var logProbability = 0.0
        for (row, target) in zip(logits, targets) {
            let top = row.max() ?? 0
            let normalizer = Double(top) + Foundation.log(Double(row.reduce(Float(0)) { $0 + Foundation.exp($1 - top) }))
            logProbability += Double(row[target]) - normalizer
            if row.firstIndex(of: top) == target { right += 1 }
        }
        let count = Double(max(1, targets.count))
        // A non-finite score never wins a tie.
        return (Double(right) / count, logProbability.isNaN ? -.infinity : logProbability / count)
    }
}
