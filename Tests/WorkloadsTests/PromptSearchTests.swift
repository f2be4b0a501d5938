import Datasets
import Foundation
import Search
import Testing
import Workloads

@Suite("Prompt search")
struct PromptSearchTests {
    static func job(_ body: String, registry: WorkloadRegistry = .builtIn) throws -> ValidatedJob {
        try JobSpec.parse(yaml: "name: ps\nworkload: prompt-search\nprompt-search:\n" + body, source: "ps.yaml", registry: registry)
    }

    static func report(_ result: (report: JobReport, tasks: Int, failure: String?)) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(result.report.json.utf8)) as? [String: Any] ?? [:]
    }

    /// A small MiniLM search over VADER tweets: 2 templates × 3 description sets × (no
    /// demonstrations, or 2 per class) = 12 distinct candidates.
    static func tweets(strategy: String, extra: String = "") -> String {
        """
          task: vader-tweets
          scorer: minilm
          dev: 32
          test: 24
          demonstration_pool: 4
          batch: 16
          strategy: \(strategy)
          templates: ["{text}", "Tweet: {text}"]
          verbalizers: [[negative, positive], [a sad tweet, a happy tweet], [I feel bad, I feel good]]
          demonstrations: [0, 2]
        \(extra)
        """
    }

    @Test("halving finds a prompt as good as exhaustive search (within its interval) with at most half the evaluations; nothing is scored twice")
    func halvingMatchesExhaustive() throws {
        let exhaustive = try LocalJobRunner.run(Self.job(Self.tweets(strategy: "exhaustive")))
        #expect(exhaustive.failure == nil)
        let full = try Self.report(exhaustive)
        #expect(full["devEvaluations"] as? Int == 12 * 32)
        #expect(full["testEvaluations"] as? Int == 2 * 24 || full["testEvaluations"] as? Int == 24)
        #expect(full["duplicateScoresIgnored"] as? Int == 0)

        let halvingJob = try Self.job(Self.tweets(strategy: "halving", extra: "  min_examples: 4\n  reduction: 2"))
        let halving = try LocalJobRunner.run(halvingJob)
        let half = try Self.report(halving)
        // 12×4 + 6×4 + 3×8 + 2×16 = 128 evaluations: the cost a dry run promises, exactly.
        #expect(half["devEvaluations"] as? Int == 128)
        #expect(halvingJob.planner.plannedCost?.contains("at most 128") == true)
        #expect((half["devEvaluations"] as? Int ?? .max) * 2 <= 12 * 32)

        let fullBoard = full["leaderboard"] as? [[String: Any]] ?? []
        let halfBoard = half["leaderboard"] as? [[String: Any]] ?? []
        let best = try #require(fullBoard.first?["devAccuracy"] as? [String: Double])
        let found = try #require(halfBoard.first)
        // Halving's winner, looked up in the exhaustive board (scored on the same 32 examples).
        let same = try #require(fullBoard.first { $0["candidate"] as? String == found["candidate"] as? String })
        let accuracy = (same["devAccuracy"] as? [String: Double])?["estimate"] ?? -1
        #expect(accuracy >= best["lower"]! && accuracy <= best["estimate"]!, "halving chose \(found), exhaustive's best \(best)")
        // Scores are deterministic: the shared candidate has the same dev score both ways.
        #expect(found["devCorrect"] as? Int == same["devCorrect"] as? Int)
        #expect(halving.report.files["leaderboard.csv"]?.split(separator: "\n").count == 1 + halfBoard.count)
        #expect(halving.report.files["test.csv"]?.hasPrefix("role,candidate,correct") == true)
    }

    @Test("explain: the best prompt's tokens are attributed by integrated gradients with the real MiniLM, [CLS] first before the text and [SEP] after it, adding up")
    func explainsTheBestPrompt() throws {
        let spec = Self.tweets(strategy: "exhaustive").replacingOccurrences(of: "dev: 32", with: "dev: 8")
            .replacingOccurrences(of: "demonstrations: [0, 2]", with: "demonstrations: [0]\n  explain: {texts: 2, steps: 32}")
        let result = try LocalJobRunner.run(Self.job(spec))
        #expect(result.failure == nil)
        let explanation = try #require(try Self.report(result)["explanation"] as? [String: Any])
        #expect(explanation["texts"] as? Int == 2 && explanation["failure"] == nil)
        let tokens = try #require(explanation["tokens"] as? [[String: Any]])
        let place = { (token: [String: Any]) in "\(token["beforeText"] as? Bool == true ? "b" : "a")\(token["position"] as? Int ?? -1)" }
        #expect(tokens.first { place($0) == "b0" }?["text"] as? String == "[CLS]")
        #expect(tokens.first { place($0) == "a0" }?["text"] as? String == "[SEP]")
        let magnitudes = tokens.compactMap { $0["meanMagnitude"] as? Double }
        #expect(magnitudes == magnitudes.sorted(by: >) && magnitudes.count == tokens.count)
        let share = try #require(explanation["promptShare"] as? Double)
        #expect(share > 0 && share < 1)
        #expect(try #require(explanation["completenessGap"] as? Double) <= 0.01)
    }

    @Test("candidates that render to the same prompt share their scores, and the budget caps the search")
    func cacheAndBudget() throws {
        // Two identical instructions: 2 candidates, 1 prompt.
        let twins = try LocalJobRunner.run(Self.job("""
              task: vader-tweets
              scorer: minilm
              dev: 16
              test: 8
              batch: 8
              instructions: ["Tweet:", "Tweet:"]
            """))
        let report = try Self.report(twins)
        #expect(report["devEvaluations"] as? Int == 16)
        #expect((report["leaderboard"] as? [Any])?.count == 2)

        let capped = try LocalJobRunner.run(Self.job(Self.tweets(strategy: "exhaustive", extra: "  budget: 100")))
        let cappedReport = try Self.report(capped)
        #expect(capped.failure == nil)
        #expect(cappedReport["budgetReached"] as? Bool == true)
        #expect((cappedReport["devEvaluations"] as? Int ?? .max) <= 100)
        #expect((cappedReport["test"] as? [Any])?.isEmpty == false)
    }

    @Test("a wrong spec fails before anything runs, naming the field")
    func specErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ps-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = (0..<40).map { "\($0 % 2 == 0 ? "ham" : "spam")\tmessage number \($0)" }
        try rows.joined(separator: "\n").write(toFile: "\(directory)/tiny.tsv", atomically: true, encoding: .utf8)
        let registry = WorkloadRegistry([PromptSearchWorkload(dataDirectory: directory)])
        func error(_ body: String, dev: String = "  dev: 10\n") -> String {
            do {
                _ = try Self.job("  task: tiny\n  scorer: smollm2\n  test: 10\n  demonstration_pool: 2\n" + dev + body, registry: registry)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("") == "no error")
        #expect(error("  verbalizers: [[\" a\", \" b\", \" c\"]]").contains("verbalizers[0]: has 3 words but the task has 2 classes (ham, spam)"))
        #expect(error("  templates: [\"no text here\"]").contains("template 0 has no {text}"))
        #expect(error("  demonstrations: [1, 2]").contains("must start with 0"))
        #expect(error("  demonstrations: [0, 3]").contains("demonstration_pool is 2"))
        #expect(error("  strategy: hlaving").contains("did you mean 'halving'"))
        #expect(error("  classes: [ham, eggs]").contains("classes[1]: expected one of ham, spam"))
        #expect(error("", dev: "  dev: 30\n").contains("tiny has 40 examples"))
        #expect(error("  candidates: 3").contains("exhaustive search scores every candidate"))
        #expect(error("  paraphrase: {count: 2}").contains("needs a non-empty instruction"))
        do {
            _ = try Self.job("  task: nonexistent\n  scorer: minilm\n", registry: registry)
            Issue.record("a missing task file was accepted")
        } catch {
            #expect("\(error)".contains("prompt-search.task") && "\(error)".contains("nonexistent.tsv"))
        }
    }

    @Test("every task scripts/fetch-data provides makes a search, with fixed, disjoint dev, pool and test examples",
          arguments: LabeledText.catalog)
    func everyTask(_ task: String) throws {
        // The many-class tasks searched on four of their classes.
        let four = ["wordnet-glosses": ["noun.animal", "noun.artifact", "noun.food", "noun.plant"], "fortunes-topics": ["art", "computers", "love", "science"]][task]
        let classes = four.map { "  classes: [\($0.joined(separator: ", "))]\n" } ?? ""
        let body = "  task: \(task)\n\(classes)  scorer: minilm\n  dev: 40\n  test: 40\n  demonstration_pool: 2\n"
        let job = try Self.job(body)
        #expect(job.planner.plannedCost?.contains("dev evaluations: at most 40") == true)
        // The same split every time, and the three parts never share a text.
        let again = try Self.job(body)
        #expect(job.planner.report().json == again.planner.report().json)
        let data = try LabeledText.load(task)
        let restricted = four.map { data.restricted(to: $0) } ?? data
        let parts = try #require(PromptSearchSplits.parts(restricted, pool: 2, dev: 40, test: 40))
        #expect(parts.dev.count == 40 && parts.test.count == 40 && parts.pool.count == 2 * restricted.classes.count)
        // Disjoint rows: no text is used more often across the parts than the task holds it
        // (texts may repeat in a task, so this counts rather than compares sets).
        var available: [String: Int] = [:]
        for text in restricted.texts { available[text, default: 0] += 1 }
        for text in parts.dev.texts + parts.pool.texts + parts.test.texts { available[text, default: 0] -= 1 }
        #expect(available.values.allSatisfy { $0 >= 0 })
    }

    @Test("95% intervals: Wilson for one accuracy, paired for a difference")
    func intervals() {
        let wilson = ConfidenceInterval.wilson(successes: 81, trials: 100)
        #expect(abs(wilson.lower - 0.7222) < 1e-3 && abs(wilson.upper - 0.8749) < 1e-3)
        #expect(ConfidenceInterval.wilson(successes: 0, trials: 10).lower == 0)
        let same = ConfidenceInterval.pairedDifference([true, false, true], [true, false, true])
        #expect(same.estimate == 0 && same.lower == 0 && same.upper == 0)
        let a = (0..<100).map { $0 < 80 }, b = (0..<100).map { $0 < 60 }
        let difference = ConfidenceInterval.pairedDifference(a, b)
        // d is 1 on 20 examples, 0 elsewhere: mean 0.2, sd √(0.2·0.8·100/99).
        #expect(abs(difference.estimate - 0.2) < 1e-12 && abs(difference.lower - (0.2 - 1.959964 * (0.16 * 100 / 99 / 100).squareRoot())) < 1e-9)
    }
}
