import Foundation
import Testing
import Wire

@testable import Workloads

/// The planner's own logic, driven through its Planner interface with results made here:
/// the outcomes a worker would send, so that rules about what gets planned can be checked
/// without running a model for minutes.
@Suite("Prompt search planning")
struct PromptSearchPlannerTests {
    static func planner(_ body: String) throws -> PromptSearchPlanner {
        let job = try JobSpec.parse(yaml: "name: p\nworkload: prompt-search\nprompt-search:\n" + body, source: "p.yaml", registry: .builtIn)
        return try #require(job.planner as? PromptSearchPlanner)
    }

    /// Answers a task as a worker would: prompts with an instruction predict every dev or
    /// test label right, prompts without one predict every label wrong; a rewrite request
    /// gets two rewrites.
    static func answer(_ task: PlannedTask, _ planner: PromptSearchPlanner) throws -> TaskOutcome {
        let request = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: task.payload)
        switch request.kind {
        case .score(let score):
            let data = task.key.hasPrefix("d") ? planner.plan.dev : planner.plan.test
            var result = Orrery_V1_Workloads_PromptScoreResult()
            result.predictions = score.texts.map { text in
                let label = data.targets[data.texts.firstIndex(of: text)!]
                return UInt32(score.prompt.instruction.isEmpty ? 1 - label : label)
            }
            return TaskOutcome(key: task.key, result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(result))), attempts: 1, workerID: "w")
        case .paraphrase(let paraphrase):
            var result = Orrery_V1_Workloads_ParaphraseResult()
            result.paraphrases = ["\(paraphrase.instruction) (first rewrite)", "\(paraphrase.instruction) (second rewrite)"]
            return TaskOutcome(key: task.key, result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(result))), attempts: 1, workerID: "w")
        case .explain(let explain):
            // Each word of the instruction, weighted by its length: the longest moves most.
            var result = Orrery_V1_Workloads_PromptExplainResult()
            result.tokens = explain.prompt.instruction.split(separator: " ").enumerated().map { index, word in
                var token = Orrery_V1_Workloads_PromptTokenAttribution()
                (token.text, token.mean, token.meanMagnitude) = (String(word), -Float(word.count), Float(word.count))
                (token.beforeText, token.position) = (true, UInt32(index))
                return token
            }
            (result.texts, result.promptShare) = (UInt32(explain.texts.count), 0.25)
            return TaskOutcome(key: task.key, result: .success(TaskOutput(payload: EnvelopeCodec.encodePayload(result))), attempts: 1, workerID: "w")
        case nil:
            throw PlannerTestError()
        }
    }

    struct PlannerTestError: Error {}

    /// A small evolutionary search that rewrites its best instruction every 2 candidates.
    static let evolutionWithParaphrases = """
          task: vader-tweets
          scorer: minilm
          dev: 8
          test: 8
          batch: 8
          strategy: evolution
          candidates: 8
          population: 3
          concurrent_trials: 1
          instructions: ["", "Is the tweet positive?"]
          templates: ["{text}", "Tweet: {text}"]
          verbalizers: [[negative, positive], [sad, happy]]
          paraphrase: {count: 2, every: 2}
        """

    @Test("paraphrase as a mutation: the best instruction is rewritten during evolution, and the best with each rewrite is tried next")
    func paraphraseDuringEvolution() throws {
        let planner = try Self.planner(Self.evolutionWithParaphrases)
        var queue = planner.start()
        var rewritten: [String] = []
        // Dev prompts planned after the rewrite came back, in order.
        var after: [String]?
        while !queue.isEmpty {
            let task = queue.removeFirst()
            let request = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: task.payload)
            if case .paraphrase(let paraphrase) = request.kind { rewritten.append(paraphrase.instruction) }
            let added = planner.consume(try Self.answer(task, planner))
            if case .paraphrase = request.kind { after = [] }
            for new in added {
                guard new.key.hasPrefix("d"), case .score(let score) = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: new.payload).kind else { continue }
                after?.append(score.prompt.instruction)
            }
            queue += added
        }
        #expect(planner.isComplete && planner.failureReason == nil)
        // Rewritten once: the instruction of the best candidate so far (the only non-empty one).
        #expect(rewritten == ["Is the tweet positive?"])
        // The next two candidates are the best with each rewrite, before any other.
        #expect(Array((after ?? []).prefix(2)) == ["Is the tweet positive? (first rewrite)", "Is the tweet positive? (second rewrite)"], "\(after ?? [])")
        #expect(planner.space.instructions.count == 4 && planner.paraphrases.count == 2)
        #expect(planner.trialsScored == 8 && planner.ledger.duplicates == 0)
    }

    @Test("rewrites during the search are only for evolution")
    func everyNeedsEvolution() {
        #expect(throws: SpecError.self) {
            try Self.planner("  task: vader-tweets\n  scorer: minilm\n  instructions: [x]\n  paraphrase: {count: 2, every: 2}\n")
        }
    }

    @Test("explain: the best prompt's tokens are attributed on the first test texts after the search, ranked by magnitude in the report; a failed explanation is noted, not fatal")
    func explanation() throws {
        let spec = Self.evolutionWithParaphrases.replacingOccurrences(of: "paraphrase: {count: 2, every: 2}", with: "explain: {texts: 3, steps: 8}")
        for fails in [false, true] {
            let planner = try Self.planner(spec)
            var queue = planner.start()
            var explained: [Orrery_V1_Workloads_PromptExplainTask] = []
            while !queue.isEmpty {
                let task = queue.removeFirst()
                if case .explain(let explain) = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: task.payload).kind {
                    explained.append(explain)
                    #expect(planner.phase == .testing, "explained during the search")
                    if fails {
                        queue += planner.consume(TaskOutcome(key: task.key, result: .failure("out of memory"), attempts: 1, workerID: "w"))
                        continue
                    }
                }
                queue += planner.consume(try Self.answer(task, planner))
            }
            #expect(planner.isComplete && planner.failureReason == nil)
            let explain = try #require(explained.first)
            #expect(explained.count == 1 && explain.steps == 8 && explain.texts == Array(planner.plan.test.texts.prefix(3)))
            #expect(explain.prompt.instruction == planner.rendered(try #require(planner.ranked.first).candidate).instruction)
            let report = planner.report()
            if fails {
                #expect(report.text.contains("were not explained: out of memory"), "\(report.text)")
                #expect(report.files["prompt-tokens.csv"] == nil)
            } else {
                #expect(report.text.contains("over 3 test texts"), "\(report.text)")
                let rows = try #require(report.files["prompt-tokens.csv"]).split(separator: "\n")
                // "positive?" (9 letters) first, then "tweet", then "the", then "Is".
                #expect(rows.dropFirst().map { $0.split(separator: ",")[0] } == ["\"positive?\"", "\"tweet\"", "\"the\"", "\"Is\""], "\(rows)")
            }
        }
    }

    @Test("score-fed proposals (OPRO): each request carries the instructions tried so far with their dev accuracies, best last; proposals join the search as children of the best")
    func scoreFedProposals() throws {
        let spec = Self.evolutionWithParaphrases.replacingOccurrences(of: "paraphrase: {count: 2, every: 2}", with: "paraphrase: {count: 2, every: 2, feedback: true}")
        let planner = try Self.planner(spec)
        var queue = planner.start()
        var requests: [Orrery_V1_Workloads_ParaphraseTask] = []
        while !queue.isEmpty {
            let task = queue.removeFirst()
            if case .paraphrase(let request) = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: task.payload).kind {
                requests.append(request)
            }
            queue += planner.consume(try Self.answer(task, planner))
        }
        #expect(planner.isComplete && planner.failureReason == nil)
        #expect(requests.count >= 2, "\(requests.count) requests")
        for request in requests {
            #expect(!request.leaderboard.isEmpty && request.leaderboard.allSatisfy { !$0.instruction.isEmpty })
            #expect(request.leaderboard.map(\.accuracy) == request.leaderboard.map(\.accuracy).sorted(), "best last")
        }
        // Later requests show the proposals scored since.
        let last = try #require(requests.last)
        #expect(last.leaderboard.count > requests[0].leaderboard.count)
        #expect(last.leaderboard.contains { $0.instruction.hasSuffix("(first rewrite)") })
        let text = PromptSearchExecutor.request(last)
        #expect(text.contains("from worst to best") && text.contains("Accuracy: 100%") && text.contains(last.leaderboard.last!.instruction))
        #expect {
            _ = try Self.planner(Self.evolutionWithParaphrases.replacingOccurrences(of: "paraphrase: {count: 2, every: 2}", with: "paraphrase: {count: 2, feedback: true}"))
        } throws: { error in "\(error)".contains("need every") }
    }
}
