import Datasets
import Foundation
import Runtime
import Tensor
import Wire

/// A `TextProblem` made concrete on a worker: its classes, what the prompt calls them, the
/// K-shot training examples and the held-out test examples. The K shots are the first K
/// of each class in prompt search's demonstration pool and the test examples are prompt
/// search's own (`PromptSearchSplits`), so a tuned prompt and a searched one are scored on
/// the same texts, and every method of a job sees the same few examples. A problem drawn
/// from WordNet's categories is split again for each seed (`split_seed`), so its seeds are
/// different few-shot samples. A distilled problem also has unlabeled texts: the first of
/// the training part after the pool, in prompt search's dev order, their labels unread.
struct PromptProblem {
    let name: String
    let classes: [String]
    let descriptions: [String]
    let train: LabeledText
    let test: LabeledText
    /// Texts a teacher labels for distillation (empty unless asked for).
    let unlabeled: [String]

    /// The categories of wordnet-glosses in each part of meta-learn's fixed split.
    static let classSplits = ["meta-train", "meta-validation", "meta-test"]

    /// - Throws: a non-retryable `TaskError` naming what the data lacks.
    init(_ problem: Orrery_V1_Workloads_TextProblem, data: LabeledText, unlabeled: Int = 0) throws {
        let rule = TaskRule(subject: "prompt-tune problem \(problem.task)")
        let kept = try Self.classes(problem, data: data, rule: rule)
        let restricted = kept == data.classes ? data : data.restricted(to: kept)
        let shots = Int(problem.shots)
        let seed = problem.splitSeed == 0 ? PromptSearchSplits.seed : problem.splitSeed
        guard let parts = PromptSearchSplits.parts(restricted, pool: shots, dev: unlabeled, test: Int(problem.test), seed: seed) else {
            throw rule.fail("too few examples for \(shots) shots a class, \(unlabeled) unlabeled texts and \(problem.test) test examples")
        }
        let counts = Dictionary(grouping: parts.pool.targets, by: { $0 }).mapValues(\.count)
        if let short = kept.indices.first(where: { (counts[$0] ?? 0) < shots }) {
            throw rule.fail("class '\(kept[short])' has fewer than \(shots) training examples")
        }
        if problem.descriptions.isEmpty {
            descriptions = problem.task == "wordnet-glosses" ? kept.map(TextFewShotBenchmark.describeWordNet) : kept
        } else {
            guard problem.descriptions.count == kept.count else {
                throw rule.fail("\(problem.descriptions.count) descriptions for \(kept.count) classes")
            }
            descriptions = problem.descriptions
        }
        classes = kept
        train = parts.pool
        test = parts.test
        self.unlabeled = parts.dev.texts
        name = Self.name(problem, classes: kept)
    }

    /// "bbc-news", or "wordnet-glosses[noun.animal,verb.motion,…]" for a drawn N-way problem.
    static func name(_ problem: Orrery_V1_Workloads_TextProblem, classes: [String]) -> String {
        problem.classSplit.isEmpty && problem.classes.isEmpty ? problem.task : "\(problem.task)[\(classes.joined(separator: ","))]"
    }

    /// The classes the problem keeps: listed, drawn from a split, or all.
    static func classes(_ problem: Orrery_V1_Workloads_TextProblem, data: LabeledText, rule: TaskRule) throws -> [String] {
        if !problem.classes.isEmpty {
            if let unknown = problem.classes.first(where: { !data.classes.contains($0) }) {
                throw rule.fail("has no class '\(PrintableText.escaped(unknown, limit: 60))'")
            }
            return problem.classes
        }
        guard !problem.classSplit.isEmpty else { return data.classes }
        let part = try splitClasses(problem.classSplit, data: data, rule: rule)
        guard problem.ways > 0 else { return part }
        guard Int(problem.ways) <= part.count else { throw rule.fail("ways \(problem.ways) exceeds the \(part.count) classes of \(problem.classSplit)") }
        var generator = SplitMix64(seed: problem.draw)
        var shuffled = part
        shuffled.shuffle(using: &generator)
        return Array(shuffled.prefix(Int(problem.ways)))
    }

    /// A class split's categories, in class order.
    static func splitClasses(_ split: String, data: LabeledText, rule: TaskRule) throws -> [String] {
        guard data.name == "wordnet-glosses", data.classes.count == 45 else { throw rule.fail("class_split applies to wordnet-glosses' 45 categories only") }
        let parts = FewShotBenchmark.splitLabels(classes: 45, test: 12, validation: 6)
        guard let which = FewShotSplit(rawValue: split), let labels = parts[which] else {
            throw rule.fail("unknown class_split '\(PrintableText.escaped(split, limit: 40))'; known: \(classSplits.joined(separator: ", "))")
        }
        return labels.map { data.classes[$0] }
    }
}
