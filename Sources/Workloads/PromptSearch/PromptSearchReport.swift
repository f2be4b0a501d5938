import Foundation
import Runtime
import Search

/// The leaderboard and final comparison of a prompt search: text for `status` and the end
/// of `submit`, JSON for programs, and CSV files (`leaderboard.csv`, `test.csv`, and with
/// `explain`, `prompt-tokens.csv`: the best prompt's tokens by how much they moved its
/// decisions).
struct PromptSearchReport {
    let planner: PromptSearchPlanner

    struct Entry: Encodable {
        let rank: Int
        let candidate: String
        let devCorrect: Int
        let devSeen: Int
        let devAccuracy: ConfidenceInterval
        let instruction: String
        let template: String
        let verbalizers: [String]
        let demonstrationsPerClass: Int
        let demonstrationDraw: Int
    }

    struct TestResult: Encodable {
        let role: String
        let candidate: String
        let correct: Int
        let examples: Int
        let accuracy: ConfidenceInterval
        /// Right or wrong on each test example, in the test split's order (for paired
        /// comparisons across searches, which share the split).
        let hits: [Bool]
    }

    struct Summary: Encodable {
        let task: String
        let scorer: String
        let modelSHA256: String
        let strategy: String
        let seed: UInt64
        let phase: String
        let spaceSize: Int
        let paraphrases: [String]
        let devExamples: Int
        let testExamples: Int
        let budget: Int
        let budgetReached: Bool
        let devEvaluations: Int
        let testEvaluations: Int
        let candidatesScored: Int
        let candidatesFailed: Int
        let tasksFailed: Int
        let duplicateScoresIgnored: Int
        let scoringSeconds: Double
        let leaderboard: [Entry]
        let test: [TestResult]
        /// Best minus baseline on the same test examples, with its paired 95% interval.
        let testDifference: ConfidenceInterval?
        let explanation: Explanation?
    }

    /// The best prompt's own tokens, most influential first (mean |attribution|).
    struct Explanation: Encodable {
        struct Token: Encodable {
            let text: String
            let mean: Float
            let meanMagnitude: Float
            let beforeText: Bool
            let position: Int
        }
        let texts: Int
        let promptShare: Double
        let completenessGap: Double
        let tokens: [Token]
        let failure: String?
    }

    func make() -> JobReport {
        let summary = makeSummary()
        var files = ["leaderboard.csv": leaderboardCSV(summary), "test.csv": testCSV(summary)]
        if let tokens = summary.explanation?.tokens, !tokens.isEmpty {
            files["prompt-tokens.csv"] = (["token,mean_attribution,mean_magnitude,before_text,position"] + tokens.map { token in
                [Self.quoted(token.text), "\(token.mean)", "\(token.meanMagnitude)", "\(token.beforeText)", "\(token.position)"].joined(separator: ",")
            }).joined(separator: "\n") + "\n"
        }
        return JobReport(text: text(summary), json: ReportJSON.encode(summary), files: files)
    }

    private func makeSummary() -> Summary {
        let plan = planner.plan
        let entries = planner.ranked.enumerated().map { rank, row in
            let rendered = planner.rendered(row.candidate)
            let correct = planner.devCorrect(row.candidate, examples: row.budget)
            return Entry(
                rank: rank + 1, candidate: row.candidate.description, devCorrect: correct, devSeen: row.budget,
                devAccuracy: .wilson(successes: correct, trials: row.budget), instruction: rendered.instruction,
                template: rendered.template, verbalizers: rendered.verbalizers,
                demonstrationsPerClass: planner.space.demonstrationCounts[row.candidate.demonstrations],
                demonstrationDraw: row.candidate.demonstrationDraw)
        }
        var outcomes: [String: [Bool]] = [:]
        let test: [TestResult] = planner.testCandidates.compactMap { role, candidate in
            guard let predictions = planner.testPredictions(candidate) else { return nil }
            let hits = PromptSearchPlanner.hits(predictions, plan.test.targets)
            outcomes[role] = hits
            let correct = hits.filter { $0 }.count
            return TestResult(
                role: role, candidate: candidate.description, correct: correct, examples: hits.count,
                accuracy: .wilson(successes: correct, trials: hits.count), hits: hits)
        }
        var difference: ConfidenceInterval?
        if let best = outcomes["best"] {
            difference = .pairedDifference(best, outcomes["baseline"] ?? best)
        }
        return Summary(
            task: plan.task, scorer: plan.scorer.rawValue, modelSHA256: plan.modelSHA256, strategy: plan.strategy.name,
            seed: plan.seed, phase: planner.phase.rawValue, spaceSize: planner.space.size, paraphrases: planner.paraphrases,
            devExamples: plan.dev.count, testExamples: plan.test.count, budget: plan.budget, budgetReached: planner.budgetReached,
            devEvaluations: planner.devEvaluations, testEvaluations: planner.testEvaluations,
            candidatesScored: planner.trialsScored, candidatesFailed: planner.trialsFailed, tasksFailed: planner.tasksFailed,
            duplicateScoresIgnored: planner.ledger.duplicates, scoringSeconds: planner.scoringSeconds,
            leaderboard: entries, test: test, testDifference: difference, explanation: explanation())
    }

    private func explanation() -> Explanation? {
        switch planner.explanation {
        case nil: return nil
        case .failure(let note)?: return Explanation(texts: 0, promptShare: 0, completenessGap: 0, tokens: [], failure: note.message)
        case .success(let result)?:
            // A worker's numbers: anything not finite counts as 0, so the ranking is an order.
            let finite = { (value: Float) in value.isFinite ? value : 0 }
            let tokens = result.tokens.map {
                Explanation.Token(
                    text: $0.text, mean: finite($0.mean), meanMagnitude: finite($0.meanMagnitude), beforeText: $0.beforeText, position: Int($0.position))
            }
            return Explanation(
                texts: Int(result.texts), promptShare: MetricValue.amount(result.promptShare), completenessGap: MetricValue.amount(result.completenessGap),
                tokens: tokens.sorted { ($0.meanMagnitude, $1.position) > ($1.meanMagnitude, $0.position) }, failure: nil)
        }
    }

    private func text(_ summary: Summary) -> String {
        var lines = [
            "prompt search \(summary.task) (\(summary.scorer), \(summary.strategy), seed \(summary.seed)): \(summary.phase); "
                + "\(summary.candidatesScored) candidates scored, \(summary.devEvaluations) dev evaluations"
                + (summary.budgetReached ? " (budget reached)" : "") + ", \(summary.testEvaluations) test evaluations, "
                + "\(summary.tasksFailed) tasks failed"
        ]
        if !summary.paraphrases.isEmpty { lines.append("paraphrased instructions: \(summary.paraphrases.count)") }
        let top = summary.leaderboard.prefix(planner.plan.top)
        if !top.isEmpty {
            lines.append(" rank  dev acc  95% interval     seen  candidate        prompt")
            for entry in top {
                lines.append(
                    String(format: " %4d  %.3f    [%.3f, %.3f]  %5d  ", entry.rank, entry.devAccuracy.estimate, entry.devAccuracy.lower, entry.devAccuracy.upper, entry.devSeen)
                        + entry.candidate.padding(toLength: 16, withPad: " ", startingAt: 0) + " " + Self.describe(entry))
            }
        }
        for result in summary.test {
            lines.append(
                String(format: "test %@: %.3f [%.3f, %.3f] on %d examples (%@)", result.role, result.accuracy.estimate, result.accuracy.lower, result.accuracy.upper, result.examples, result.candidate))
        }
        if let difference = summary.testDifference, summary.test.count == 2 {
            let verdict = difference.lower > 0 ? "better than the baseline beyond the 95% interval" : "not better beyond the 95% interval"
            lines.append(String(format: "test best − baseline: %+.3f [%+.3f, %+.3f] (paired): ", difference.estimate, difference.lower, difference.upper) + verdict)
        }
        if let explanation = summary.explanation {
            if let failure = explanation.failure {
                lines.append("the best prompt's tokens were not explained: \(failure)")
            } else {
                lines.append(String(
                    format: "the best prompt's tokens that moved its decisions most (integrated gradients over %d test texts, each for its predicted class; the prompt carries %.0f%% of the attributions' magnitude, completeness gap %.1f%%):",
                    explanation.texts, 100 * explanation.promptShare, 100 * explanation.completenessGap))
                for token in explanation.tokens.prefix(10) {
                    let place = token.beforeText ? "before the text, token \(token.position + 1)" : "after the text, \(token.position + 1) from the end"
                    lines.append(String(format: "  %@ %+8.4f (|%.4f|)  %@", PrintableText.escaped(token.text, limit: 24).debugDescription, token.mean, token.meanMagnitude, place))
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ entry: Entry) -> String {
        let instruction = entry.instruction.isEmpty ? "(no instruction)" : "\"\(Self.clip(entry.instruction, 48))\""
        let demos = entry.demonstrationsPerClass == 0 ? "no demos" : "\(entry.demonstrationsPerClass)/class draw \(entry.demonstrationDraw)"
        let words = entry.verbalizers.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "/")
        return "\(instruction) | \(Self.clip(entry.template, 32).debugDescription) | \(words) | \(demos)"
    }

    static func clip(_ text: String, _ limit: Int) -> String { text.count <= limit ? text : String(text.prefix(limit - 1)) + "…" }

    private func leaderboardCSV(_ summary: Summary) -> String {
        var rows = ["rank,candidate,dev_correct,dev_seen,dev_accuracy,ci_low,ci_high,instruction,template,verbalizers,demonstrations_per_class,demonstration_draw"]
        for entry in summary.leaderboard {
            rows.append(
                [
                    "\(entry.rank)", entry.candidate, "\(entry.devCorrect)", "\(entry.devSeen)", Self.number(entry.devAccuracy.estimate),
                    Self.number(entry.devAccuracy.lower), Self.number(entry.devAccuracy.upper), Self.quoted(entry.instruction),
                    Self.quoted(entry.template), Self.quoted(entry.verbalizers.joined(separator: "|")), "\(entry.demonstrationsPerClass)",
                    "\(entry.demonstrationDraw)",
                ].joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    private func testCSV(_ summary: Summary) -> String {
        var rows = ["role,candidate,correct,examples,accuracy,ci_low,ci_high"]
        for result in summary.test {
            rows.append(
                [result.role, result.candidate, "\(result.correct)", "\(result.examples)", Self.number(result.accuracy.estimate),
                 Self.number(result.accuracy.lower), Self.number(result.accuracy.upper)].joined(separator: ","))
        }
        if let difference = summary.testDifference, summary.test.count == 2 {
            rows.append(["best-baseline", "", "", "", Self.number(difference.estimate), Self.number(difference.lower), Self.number(difference.upper)].joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String { String(format: "%.4f", value) }

    /// A CSV field in double quotes, with quotes doubled (RFC 4180).
    static func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
