import Foundation
import LanguageModels
import Runtime
import Search
import Tensor
import Wire

/// Plans a prompt search on the coordinator.
///
/// Phases: paraphrasing (optional meta-prompting: SmolLM2 rewrites the instructions), then
/// searching (the strategy proposes candidates; each is scored on a slice of dev, in tasks
/// of `batch` examples; several candidates are scored at once and new ones are proposed
/// as results arrive), then testing (the best candidate and the baseline on the test
/// split). The score ledger keeps every prediction, so no (prompt, example) pair is ever
/// scored twice, within a candidate's growing halving slices or across candidates that
/// render to the same prompt.
final class PromptSearchPlanner: Planner {
    enum Phase: String {
        case paraphrasing, searching, testing, done
    }

    let plan: PromptSearchPlan
    private(set) var phase: Phase = .searching
    /// The space as it stands: rewrites of instructions join it while evolution runs, and
    /// evolution's sampling and mutation read it through this box.
    private let live: LiveSpace
    var space: PromptSpace { live.space }
    private var strategy: (any SearchStrategy<PromptCandidate>)?
    private(set) var ledger = ScoreLedger()
    private var leaderboard = Leaderboard<PromptCandidate>()
    /// Candidates being scored: the trial, its prompt key, and how many dev examples.
    private var openTrials: [(trial: Trial<PromptCandidate>, prompt: String)] = []
    private var pending: [String: PendingTask] = [:]
    private var prompts: [String: RenderedPrompt] = [:]
    private var promptKeys: [PromptCandidate: String] = [:]
    private var taskNumber = 0
    private(set) var devEvaluations = 0
    private(set) var testEvaluations = 0
    private var devPlanned = 0
    private(set) var budgetReached = false
    private(set) var trialsScored = 0
    private(set) var trialsFailed = 0
    private(set) var tasksFailed = 0
    private var firstFailure: String?
    private(set) var paraphrases: [String] = []
    /// Instructions already sent for rewriting, and when the next rewrite is due (in scored
    /// candidates), for `paraphrase.every`.
    private var paraphrased: Set<String> = []
    private var nextParaphraseAt = 0
    private(set) var scoringSeconds = 0.0
    private(set) var testCandidates: [(role: String, candidate: PromptCandidate)] = []
    /// The best prompt's tokens as its explanation task found them, or why it failed.
    private(set) var explanation: Result<Orrery_V1_Workloads_PromptExplainResult, PlannerNote>?

    enum PendingTask {
        case score(prompt: String, split: PromptSplit, examples: [Int])
        /// `parent`: the candidate whose instruction is rewritten during the search (nil
        /// for the rewrites made before it).
        case paraphrase(instruction: String, parent: PromptCandidate?)
        case explain
    }

    /// Why a step the job can do without (the explanation) did not happen.
    struct PlannerNote: Error, Equatable {
        let message: String
    }

    /// The current space, shared with the strategy's closures. Only the planner's thread
    /// touches it.
    final class LiveSpace: @unchecked Sendable {
        var space: PromptSpace
        init(_ space: PromptSpace) { self.space = space }
    }

    init(plan: PromptSearchPlan) {
        self.plan = plan
        self.live = LiveSpace(plan.space)
        nextParaphraseAt = plan.paraphrase?.every ?? 0
    }

    // MARK: Planner

    func start() -> [PlannedTask] {
        guard let paraphrase = plan.paraphrase, paraphrase.every == nil else { return beginSearch() }
        phase = .paraphrasing
        return plan.space.instructions.filter { !$0.isEmpty }.map { paraphraseTask($0, parent: nil) }
    }

    private func paraphraseTask(_ instruction: String, parent: PromptCandidate?, leaderboard: [Orrery_V1_Workloads_ScoredInstruction] = []) -> PlannedTask {
        let settings = plan.paraphrase!
        paraphrased.insert(instruction)
        var task = Orrery_V1_Workloads_ParaphraseTask()
        task.instruction = instruction
        task.leaderboard = leaderboard
        task.count = UInt32(settings.count)
        task.seed = plan.seed &+ UInt64(paraphrased.count)
        task.temperature = settings.temperature
        task.maxTokens = 48
        task.modelSha256 = PromptScorer.smollm2.pinnedSHA256
        var wrapper = Orrery_V1_Workloads_PromptSearchTask()
        wrapper.paraphrase = task
        return makeTask(prefix: "p", wrapper, .paraphrase(instruction: instruction, parent: parent))
    }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        guard let task = pending.removeValue(forKey: outcome.key) else { return [] }
        switch (task, outcome.result) {
        case (.paraphrase(_, let parent), .success(let output)):
            if let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_ParaphraseResult.self, from: output.payload) {
                // A worker's answer is bounded before it grows the search space.
                let offered = result.paraphrases.prefix(PromptSearchTaskRules.paraphrases.upperBound)
                    .filter { !$0.isEmpty && $0.utf8.count <= 1024 }
                for text in offered where !space.instructions.contains(text) && !paraphrases.contains(text) {
                    paraphrases.append(text)
                    if let parent { adopt(text, childOf: parent) }
                }
            } else {
                noteFailure(outcome.key, "the paraphrase result does not decode")
            }
        case (.score(let prompt, let split, let examples), .success(let output)):
            if let predictions = predictions(in: output, count: examples.count, classes: plan.dev.classes.count) {
                let added = ledger.record(prompt: prompt, split: split, examples: examples, predictions: predictions)
                if split == .dev { devEvaluations += added } else { testEvaluations += added }
            } else {
                ledger.release(prompt: prompt, split: split, examples: examples)
                noteFailure(outcome.key, "the result does not hold one class per example")
            }
        case (.score(let prompt, let split, let examples), .failure(let message)):
            ledger.release(prompt: prompt, split: split, examples: examples)
            noteFailure(outcome.key, message)
        case (.paraphrase, .failure(let message)):
            noteFailure(outcome.key, message)
        case (.explain, .success(let output)):
            if let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptExplainResult.self, from: output.payload),
                result.tokens.count <= 100_000
            {
                explanation = .success(result)
            } else {
                explanation = .failure(PlannerNote(message: "the explanation does not decode"))
            }
        case (.explain, .failure(let message)):
            explanation = .failure(PlannerNote(message: message))
        }
        if phase == .paraphrasing {
            guard pending.isEmpty else { return [] }
            return beginSearch()
        }
        return advance()
    }

    var isComplete: Bool { phase == .done && pending.isEmpty }

    var failureReason: String? {
        if phase == .done && testCandidates.isEmpty { return "no candidate was scored; first failure: \(firstFailure ?? "none")" }
        if testCandidates.contains(where: { testPredictions($0.candidate) == nil }) {
            return "the test split could not be scored; first failure: \(firstFailure ?? "none")"
        }
        return nil
    }

    var expectedTaskCount: Int? { nil }

    func report() -> JobReport { PromptSearchReport(planner: self).make() }

    var statusLine: String? {
        guard let best = ranked.first else { return "\(phase.rawValue): \(devEvaluations) dev evaluations" }
        return "\(phase.rawValue): \(trialsScored) scored, best \(String(format: "%.3f", best.score)) on \(best.budget) (\(best.candidate)), "
            + "\(devEvaluations) dev evaluations"
    }

    /// What the search will cost at most, for `orrery validate` and `--dry-run`.
    var plannedCost: String? { PromptSearchCost(plan: plan).text }

    // MARK: Searching

    /// Meta-prompting as a mutation: a rewrite of the parent's instruction joins the space,
    /// and the parent with the new instruction is the strategy's next candidate.
    private func adopt(_ instruction: String, childOf parent: PromptCandidate) {
        live.space = space.adding(instructions: [instruction])
        guard phase == .searching, var strategy else { return }
        var child = parent
        child.instruction = space.instructions.count - 1
        strategy.suggest(space.canonical(child))
        self.strategy = strategy
    }

    private func beginSearch() -> [PlannedTask] {
        live.space = space.adding(instructions: paraphrases)
        strategy = Self.makeStrategy(plan.strategy, space: live, devCount: plan.dev.count, seed: plan.seed)
        phase = .searching
        return advance()
    }

    static func makeStrategy(_ choice: PromptStrategy, space live: LiveSpace, devCount: Int, seed: UInt64) -> any SearchStrategy<PromptCandidate> {
        let space = live.space
        switch choice {
        case .exhaustive:
            return ExhaustiveSearch(candidates: space.all(), budget: devCount)
        case .random(let count):
            return RandomSearch(count: count, budget: devCount, seed: seed, sample: { space.sample(&$0) })
        case .halving(let count, let minimum, let reduction):
            var field = space.all()
            if let count, count < field.count {
                var generator = SplitMix64(seed: seed)
                var sampled: [PromptCandidate] = [PromptCandidate()]
                while sampled.count < count {
                    let candidate = space.sample(&generator)
                    if !sampled.contains(candidate) { sampled.append(candidate) }
                }
                field = sampled
            }
            return SuccessiveHalving(candidates: field, minimumBudget: min(minimum, devCount), maximumBudget: devCount, reduction: reduction)
        case .evolution(let count, let population, let tournament, let crossover):
            return RegularizedEvolution(
                count: count, budget: devCount, populationSize: population, tournamentSize: tournament, crossoverRate: crossover,
                seed: seed, initial: [PromptCandidate()], sample: { live.space.sample(&$0) }, mutate: { live.space.mutate($0, &$1) },
                crossover: { live.space.crossover($0, $1, &$2) })
        }
    }

    /// Tells the strategy about every candidate whose examples are all scored, asks it for
    /// more while there is room and budget, and moves on to testing once the search is over.
    private func advance() -> [PlannedTask] {
        var planned: [PlannedTask] = []
        guard phase == .searching, var strategy else {
            completeIfTested()
            return []
        }
        var progressed = true
        while progressed {
            progressed = false
            for (index, open) in openTrials.enumerated().reversed() {
                let examples = 0..<open.trial.budget
                if let predictions = ledger.predictions(prompt: open.prompt, split: .dev, examples: examples) {
                    let accuracy = Double(Self.hits(predictions, plan.dev.targets).count(where: { $0 })) / Double(max(1, examples.count))
                    strategy.tell(open.trial, score: accuracy)
                    leaderboard.record(open.trial, score: accuracy)
                    trialsScored += 1
                    openTrials.remove(at: index)
                    progressed = true
                } else if !hasPending(prompt: open.prompt, split: .dev) {
                    // Its tasks failed for good: the strategy hears the worst score, and
                    // the leaderboard nothing.
                    strategy.tell(open.trial, score: -1)
                    trialsFailed += 1
                    openTrials.remove(at: index)
                    progressed = true
                }
            }
            while !budgetReached, openTrials.count < plan.concurrentTrials, let trial = strategy.ask() {
                let prompt = key(for: trial.candidate)
                let budget = min(trial.budget, plan.dev.count)
                let missing = ledger.claimMissing(prompt: prompt, split: .dev, examples: 0..<budget)
                if devPlanned + missing.count > plan.budget {
                    ledger.release(prompt: prompt, split: .dev, examples: missing)
                    budgetReached = true
                    break
                }
                devPlanned += missing.count
                planned += scoreTasks(prompt: prompt, split: .dev, examples: missing)
                openTrials.append((Trial(candidate: trial.candidate, budget: budget, rung: trial.rung), prompt))
                progressed = true
            }
        }
        self.strategy = strategy
        planned += dueParaphrase()
        if openTrials.isEmpty && (strategy.isFinished || budgetReached || pending.isEmpty) {
            phase = .testing
            planned += planTests()
        }
        return planned
    }

    /// With `paraphrase.every`, a rewrite of the best candidate's instruction after every
    /// that many scored candidates (one rewrite task at a time; each instruction once).
    /// With `feedback`, a score-fed proposal instead: the leaderboard of instructions so far
    /// goes with the request, and the best candidate with each proposal is tried next.
    private func dueParaphrase() -> [PlannedTask] {
        guard let settings = plan.paraphrase, let every = settings.every, phase == .searching, let strategy, !strategy.isFinished,
            trialsScored >= nextParaphraseAt,
            !pending.values.contains(where: { if case .paraphrase = $0 { true } else { false } }),
            let best = ranked.first?.candidate
        else { return [] }
        let instruction = space.instructions[best.instruction]
        if settings.feedback {
            let leaderboard = instructionLeaderboard()
            guard !leaderboard.isEmpty else { return [] }
            nextParaphraseAt = trialsScored + every
            return [paraphraseTask(instruction, parent: best, leaderboard: leaderboard)]
        }
        guard !instruction.isEmpty, !paraphrased.contains(instruction) else { return [] }
        nextParaphraseAt = trialsScored + every
        return [paraphraseTask(instruction, parent: best)]
    }

    /// Each non-empty instruction tried so far with the best dev accuracy of a candidate
    /// using it (among those scored on the most dev examples), the best
    /// `PromptSearchTaskRules.leaderboardEntries`, worst first and best last, as OPRO shows them.
    private func instructionLeaderboard() -> [Orrery_V1_Workloads_ScoredInstruction] {
        var best: [String: Double] = [:]
        var order: [String] = []
        for row in ranked {
            let text = space.instructions[row.candidate.instruction]
            guard !text.isEmpty, text.utf8.count <= PromptSearchTaskRules.maximumInstructionBytes, best[text] == nil else { continue }
            best[text] = row.score
            order.append(text)
        }
        return order.prefix(PromptSearchTaskRules.leaderboardEntries).reversed().map { text in
            var entry = Orrery_V1_Workloads_ScoredInstruction()
            (entry.instruction, entry.accuracy) = (text, min(1, max(0, best[text]!)))
            return entry
        }
    }

    private func hasPending(prompt: String, split: PromptSplit) -> Bool {
        pending.values.contains { task in
            if case .score(let other, let otherSplit, _) = task { return other == prompt && otherSplit == split }
            return false
        }
    }

    // MARK: Testing

    /// The best candidate on dev and the baseline, each on the whole test split.
    private func planTests() -> [PlannedTask] {
        guard let best = ranked.first?.candidate else {
            phase = .done
            return []
        }
        testCandidates = [("best", best)]
        if best != PromptCandidate() { testCandidates.append(("baseline", PromptCandidate())) }
        let tasks = testCandidates.flatMap { entry in
            let prompt = key(for: entry.candidate)
            return scoreTasks(prompt: prompt, split: .test, examples: ledger.claimMissing(prompt: prompt, split: .test, examples: 0..<plan.test.count))
        }
        let explaining = explainTask(best)
        completeIfTested()
        return tasks + explaining
    }

    /// With `explain`, the best prompt's decisions on the first test texts attributed to
    /// its tokens (a task of its own, beside the test scoring).
    private func explainTask(_ best: PromptCandidate) -> [PlannedTask] {
        guard let settings = plan.explain, let rendered = prompts[key(for: best)] else { return [] }
        var task = Orrery_V1_Workloads_PromptExplainTask()
        task.scorer = plan.scorer.rawValue
        task.modelSha256 = plan.modelSHA256
        task.prompt = Self.wire(rendered)
        task.texts = Array(plan.test.texts.prefix(settings.texts))
        task.maxTextTokens = UInt32(plan.maxTextTokens)
        task.steps = UInt32(settings.steps)
        var wrapper = Orrery_V1_Workloads_PromptSearchTask()
        wrapper.explain = task
        return [makeTask(prefix: "x", wrapper, .explain)]
    }

    private func completeIfTested() {
        if phase == .testing && pending.isEmpty { phase = .done }
    }

    func testPredictions(_ candidate: PromptCandidate) -> [Int]? {
        ledger.predictions(prompt: key(for: candidate), split: .test, examples: 0..<plan.test.count)
    }

    /// Whether each prediction matches its example's class, in order.
    static func hits(_ predictions: [Int], _ targets: [Int]) -> [Bool] { zip(predictions, targets).map { $0 == $1 } }

    // MARK: Tasks

    private func scoreTasks(prompt: String, split: PromptSplit, examples: [Int]) -> [PlannedTask] {
        guard let rendered = prompts[prompt] else { return [] }
        let data = split == .dev ? plan.dev : plan.test
        return stride(from: 0, to: examples.count, by: plan.batch).map { start in
            let chunk = Array(examples[start..<min(examples.count, start + plan.batch)])
            var task = Orrery_V1_Workloads_PromptScoreTask()
            task.scorer = plan.scorer.rawValue
            task.modelSha256 = plan.modelSHA256
            task.prompt = Self.wire(rendered)
            task.texts = chunk.map { data.texts[$0] }
            task.maxTextTokens = UInt32(plan.maxTextTokens)
            task.recomputePrefix = plan.recomputePrefix
            var wrapper = Orrery_V1_Workloads_PromptSearchTask()
            wrapper.score = task
            return makeTask(prefix: split == .dev ? "d" : "t", wrapper, .score(prompt: prompt, split: split, examples: chunk))
        }
    }

    private func makeTask(prefix: String, _ wrapper: Orrery_V1_Workloads_PromptSearchTask, _ task: PendingTask) -> PlannedTask {
        let key = "\(prefix)\(taskNumber)"
        taskNumber += 1
        pending[key] = task
        let payload = EnvelopeCodec.encodePayload(wrapper)
        // A score is a pure function of the payload (model digest, prompt, texts, cut): it
        // is shared across jobs. A rewrite is not (it samples).
        var cacheKey: String?
        if case .score = task {
            var digest = SHA256()
            digest.update(payload)
            cacheKey = "prompt-search/score/" + digest.finalize()
        }
        return PlannedTask(key: key, payload: payload, cacheKey: cacheKey)
    }

    static func wire(_ rendered: RenderedPrompt) -> Orrery_V1_Workloads_Prompt {
        var prompt = Orrery_V1_Workloads_Prompt()
        prompt.instruction = rendered.instruction
        prompt.template = rendered.template
        prompt.verbalizers = rendered.verbalizers
        prompt.demonstrations = rendered.demonstrations.map { demonstration in
            var wire = Orrery_V1_Workloads_Demonstration()
            wire.text = demonstration.text
            wire.label = UInt32(demonstration.label)
            return wire
        }
        return prompt
    }

    /// The score-cache key of a candidate: the digest of the weights and of everything the
    /// scorer sees, so candidates that render alike (no demonstrations, different draws)
    /// share their scores.
    func key(for candidate: PromptCandidate) -> String {
        if let known = promptKeys[candidate] { return known }
        let rendered = RenderedPrompt(candidate, in: space, pool: plan.pool)
        var parts = [plan.scorer.rawValue, plan.modelSHA256, "\(plan.maxTextTokens)", rendered.instruction, rendered.template]
        parts += rendered.verbalizers
        parts += rendered.demonstrations.map { "\($0.label):\($0.text)" }
        let key = SHA256.hex(parts.map { "\($0.utf8.count):\($0)" }.joined())
        promptKeys[candidate] = key
        prompts[key] = rendered
        return key
    }

    func rendered(_ candidate: PromptCandidate) -> RenderedPrompt { prompts[key(for: candidate)]! }

    private func predictions(in output: TaskOutput, count: Int, classes: Int) -> [Int]? {
        guard let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptScoreResult.self, from: output.payload),
            result.predictions.count == count, result.predictions.allSatisfy({ $0 < classes })
        else { return nil }
        scoringSeconds += MetricValue.amount(result.seconds)
        return result.predictions.map(Int.init)
    }

    private func noteFailure(_ key: String, _ message: String) {
        tasksFailed += 1
        if firstFailure == nil { firstFailure = "task \(key): \(message)" }
    }

    // MARK: For the report

    /// Scored candidates, best first: larger slices of dev first, then higher accuracy, then
    /// (on a tie) the candidate with the smaller indices, the one closer to the baseline, so
    /// that the best is the same whatever order results arrived in.
    var ranked: [(candidate: PromptCandidate, score: Double, budget: Int)] {
        leaderboard.ranked.sorted { a, b in
            if a.budget != b.budget { return a.budget > b.budget }
            if a.score != b.score { return a.score > b.score }
            return a.candidate.genes.lexicographicallyPrecedes(b.candidate.genes)
        }
    }

    /// Correct predictions of `candidate` on the first `examples` dev examples.
    func devCorrect(_ candidate: PromptCandidate, examples: Int) -> Int {
        guard let predictions = ledger.predictions(prompt: key(for: candidate), split: .dev, examples: 0..<examples) else { return 0 }
        return Self.hits(predictions, plan.dev.targets).count(where: { $0 })
    }
}
