import Datasets
import Foundation
import Testing

@Suite("Labeled text tasks")
struct LabeledTextTests {
    @Test("every task fetch-data provides loads with its known size and classes")
    func catalog() throws {
        let expected: [String: (rows: Int, classes: [String])] = [
            "vader-tweets": (2667, ["negative", "positive"]), "vader-movies": (9173, ["negative", "positive"]),
            "vader-amazon": (2455, ["negative", "positive"]), "vader-nyt": (1554, ["negative", "positive"]),
            "pattern-reviews": (1500, ["negative", "positive"]), "pattern-sentences": (4000, ["negative", "positive"]),
            "pattern-spam": (250, ["ham", "spam"]), "bbc-news": (2225, ["business", "entertainment", "politics", "sports", "tech"]),
            "fortunes-topics": (15193, (
                "art computers cookie debian definitions disclaimer drugs education ethnic food fortunes goedel humorists kids "
                + "knghtbrd law linux linuxcookie literature love magic medicine men-women miscellaneous news paradoxum people "
                + "perl pets platitudes politics riddles science songs-poems sports startrek tao wisdom work zippy"
            ).split(separator: " ").map(String.init)),
        ]
        for name in LabeledText.catalog where name != "wordnet-glosses" {
            let task = try LabeledText.load(name)
            #expect(task.count == expected[name]?.rows, "\(name)")
            #expect(task.classes == expected[name]?.classes, "\(name)")
            #expect(task.texts.allSatisfy { !$0.isEmpty && !$0.contains("\t") })
        }
        let glosses = try LabeledText.load("wordnet-glosses")
        #expect(glosses.count == 117_659 && glosses.classes.count == 45)
        let animals = glosses.restricted(to: ["noun.animal", "noun.plant", "noun.food"])
        #expect(animals.classes == ["noun.animal", "noun.plant", "noun.food"])
        #expect(Set(animals.targets) == [0, 1, 2] && animals.count < glosses.count / 5)
    }

    @Test("a seeded split is stratified, disjoint, covers every row and repeats exactly")
    func split() throws {
        let task = try LabeledText.load("pattern-spam")
        let (dev, test) = task.split(fraction: 0.3, seed: 11)
        #expect(dev.name == "pattern-spam/dev" && test.name == "pattern-spam/test")
        // Every row lands in exactly one part: as multisets, dev + test is the task.
        func tally(_ part: LabeledText) -> [String: Int] { part.texts.reduce(into: [:]) { $0["\($1)", default: 0] += 1 } }
        #expect(dev.count + test.count == task.count)
        #expect(tally(dev).merging(tally(test), uniquingKeysWith: +) == tally(task))
        for label in task.classes.indices {
            let all = task.targets.filter { $0 == label }.count
            #expect(dev.targets.filter { $0 == label }.count == Int((Double(all) * 0.3).rounded()))
        }
        #expect(task.split(fraction: 0.3, seed: 11).first == dev)
        #expect(task.split(fraction: 0.3, seed: 12).first != dev)
    }

    @Test("a missing task names its file; an unknown one lists the known tasks; a malformed line is named")
    func errors() throws {
        let missing = #expect(throws: DatasetError.self) { try LabeledText.load("vader-tweets", directory: "/nonexistent") }
        #expect(missing?.path == "/nonexistent/vader-tweets.tsv" && missing?.detail.contains("fetch-data") == true)
        let unknown = #expect(throws: DatasetError.self) { try LabeledText.load("imdb") }
        #expect(unknown?.detail.contains("vader-movies") == true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orrery-text-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "positive\tgood\nno tab here\n".write(toFile: "\(directory)/broken.tsv", atomically: true, encoding: .utf8)
        let malformed = #expect(throws: DatasetError.self) { try LabeledText.load("broken", directory: directory) }
        #expect(malformed?.detail.contains("line 2") == true)
    }
}
