import Foundation
import Tensor

/// A text classification task: texts with class labels, read from a `label<TAB>text` file
/// that `scripts/fetch-data` normalized into the cache (`text/<task>.tsv`).
///
/// Tasks are values; `split` and `subset` make new ones. Classes are the sorted distinct
/// labels, so class numbers do not depend on row order.
public struct LabeledText: Sendable, Equatable {
    public let name: String
    public let classes: [String]
    public let texts: [String]
    /// Class number of each text, an index into `classes`.
    public let targets: [Int]

    public var count: Int { texts.count }

    public init(name: String, classes: [String], texts: [String], targets: [Int]) {
        precondition(texts.count == targets.count && targets.allSatisfy(classes.indices.contains))
        self.name = name
        self.classes = classes
        self.texts = texts
        self.targets = targets
    }

    /// The tasks `scripts/fetch-data` provides.
    public static let catalog = [
        "vader-tweets", "vader-movies", "vader-amazon", "vader-nyt", "pattern-reviews", "pattern-sentences", "pattern-spam",
        "bbc-news", "wordnet-glosses", "fortunes-topics",
    ]

    /// Reads `<directory>/<name>.tsv`; a missing file or a malformed line is an error naming it.
    public static func load(_ name: String, directory: String = DataCache.path("text")) throws(DatasetError) -> LabeledText {
        let path = "\(directory)/\(name).tsv"
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            let known = catalog.contains(name) ? "missing: run scripts/fetch-data" : "no such task (known: \(catalog.joined(separator: ", ")))"
            throw DatasetError(path: path, known)
        }
        var labels: [String] = [], texts: [String] = []
        for (index, line) in contents.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let tab = line.firstIndex(of: "\t"), tab != line.startIndex, line.index(after: tab) != line.endIndex else {
                throw DatasetError(path: path, "line \(index + 1) is not 'label<TAB>text'")
            }
            labels.append(String(line[..<tab]))
            texts.append(String(line[line.index(after: tab)...]))
        }
        guard !texts.isEmpty else { throw DatasetError(path: path, "no rows") }
        let classes = Array(Set(labels)).sorted()
        let number = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        return LabeledText(name: name, classes: classes, texts: texts, targets: labels.map { number[$0]! })
    }

    /// The rows at `indices`, in that order, with the same classes.
    public func subset(_ indices: [Int], name: String? = nil) -> LabeledText {
        LabeledText(name: name ?? self.name, classes: classes, texts: indices.map { texts[$0] }, targets: indices.map { targets[$0] })
    }

    /// Only the rows of `kept` classes (renumbered in the given order): an N-way task out of
    /// a many-class one such as WordNet's 45 categories.
    public func restricted(to kept: [String]) -> LabeledText {
        let old = Set(kept.compactMap { classes.firstIndex(of: $0) })
        let rows = targets.indices.filter { old.contains(targets[$0]) }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().compactMap { new, label in classes.firstIndex(of: label).map { ($0, new) } })
        return LabeledText(name: name, classes: kept, texts: rows.map { texts[$0] }, targets: rows.map { renumber[targets[$0]]! })
    }

    /// A seeded, stratified split: from each class, a shuffled `fraction` of its rows (at
    /// least one) goes to the first part, the rest to the second; the parts are named
    /// `<task>/<names.0>` and `<task>/<names.1>`. The same seed gives the same split on every
    /// machine; the parts never share a row. Prompt search chooses on the dev part and
    /// reports on the test part, which it never sees.
    public func split(fraction: Double, seed: UInt64, names: (String, String) = ("dev", "test")) -> (first: LabeledText, second: LabeledText) {
        var generator = SplitMix64(seed: seed)
        var first: [Int] = [], second: [Int] = []
        for label in classes.indices {
            var rows = targets.indices.filter { targets[$0] == label }
            for i in stride(from: rows.count - 1, to: 0, by: -1) {
                rows.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            let cut = rows.isEmpty ? 0 : Swift.max(1, Int((Double(rows.count) * fraction).rounded()))
            first += rows.prefix(cut)
            second += rows.dropFirst(cut)
        }
        return (subset(first.sorted(), name: "\(name)/\(names.0)"), subset(second.sorted(), name: "\(name)/\(names.1)"))
    }
}
