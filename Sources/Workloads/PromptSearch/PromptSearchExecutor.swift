import Foundation
import LanguageModels
import Runtime
import Tensor
import Wire

/// Scores prompts on a worker. Each model is loaded the first time a task needs it and
/// kept for the worker's life, with the sha256 of its weights file, which must match the
/// digest the planner keys its scores by.
final class PromptSearchExecutor: Executor, Sendable {
    private let smolLM2: VerifiedModel<CausalLanguageModel>
    private let miniLM: VerifiedModel<SentenceEncoder>
    /// Prompts made ready, kept across tasks (about 15 MB each for a SmolLM2 prefix of 300 tokens).
    private let preparedPrompts = RecentValueCache<LikelihoodClassifier.PreparedPrompt>(capacity: 8)
    private let preparedClasses = RecentValueCache<EmbeddingClassifier.PreparedClasses>(capacity: 32)

    init(smolLM2Path: String = CausalLanguageModel.defaultPath, miniLMDirectory: String = SentenceEncoder.defaultDirectory) {
        smolLM2 = VerifiedModel(name: "SmolLM2", weightsPath: smolLM2Path) { try CausalLanguageModel(path: smolLM2Path) }
        miniLM = VerifiedModel(name: "MiniLM", weightsPath: "\(miniLMDirectory)/model.safetensors") {
            try SentenceEncoder(directory: miniLMDirectory)
        }
    }

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptSearchTask.self, from: payload)
        switch task.kind {
        case .score(let score): return try self.score(score, context: context)
        case .paraphrase(let paraphrase): return try self.paraphrase(paraphrase, context: context)
        case .explain(let explain): return try self.explain(explain, context: context)
        case nil: throw TaskError("the prompt-search task names no kind (score, paraphrase or explain)", retryable: false)
        }
    }

    private func score(_ task: Orrery_V1_Workloads_PromptScoreTask, context: TaskContext) throws -> TaskOutput {
        try PromptSearchTaskRules.validate(task)
        let prompt = task.prompt
        guard !prompt.verbalizers.isEmpty, prompt.template.contains("{text}") else {
            throw TaskError("the prompt needs verbalizers and a template with {text}", retryable: false)
        }
        let demonstrations = prompt.demonstrations.map { Demonstration(text: $0.text, label: Int($0.label)) }
        try context.checkCancellation()
        let started = MonotonicClock.milliseconds
        let scores: [[Double]]
        do {
            let key = try Self.preparedKey(task)
            switch PromptScorer(rawValue: task.scorer) {
            case .smollm2:
                let classifier = LikelihoodClassifier(model: try smolLM2.get(expected: task.modelSha256), maxTextTokens: Int(task.maxTextTokens))
                if task.recomputePrefix {
                    scores = try classifier.scores(
                        instruction: prompt.instruction, demonstrations: demonstrations, template: prompt.template, texts: task.texts,
                        verbalizers: prompt.verbalizers, recomputePrefix: true)
                } else {
                    let prepared = try preparedPrompts.value(for: key) {
                        try classifier.prepare(
                            instruction: prompt.instruction, demonstrations: demonstrations, template: prompt.template, verbalizers: prompt.verbalizers)
                    }
                    scores = try classifier.scores(prepared, texts: task.texts)
                }
            case .minilm:
                let classifier = EmbeddingClassifier(encoder: try miniLM.get(expected: task.modelSha256), maxTextTokens: Int(task.maxTextTokens))
                let prepared = try preparedClasses.value(for: key) {
                    try classifier.prepare(
                        instruction: prompt.instruction, template: prompt.template, descriptions: prompt.verbalizers, demonstrations: demonstrations)
                }
                scores = try classifier.scores(prepared, texts: task.texts)
            case nil:
                throw TaskError("unknown scorer '\(task.scorer)' (known: \(PromptScorer.allCases.map(\.rawValue).joined(separator: ", ")))", retryable: false)
            }
        } catch let error as TensorError {
            throw TaskError("scoring failed: \(error)", retryable: false)
        }
        var result = Orrery_V1_Workloads_PromptScoreResult()
        result.predictions = scores.map { UInt32(LikelihoodClassifier.argmax($0)) }
        result.modelSha256 = task.modelSha256
        result.seconds = Double(MonotonicClock.milliseconds - started) / 1000
        return TaskOutput(metrics: ["examples": Double(task.texts.count)], payload: EnvelopeCodec.encodePayload(result))
    }

    private func paraphrase(_ task: Orrery_V1_Workloads_ParaphraseTask, context: TaskContext) throws -> TaskOutput {
        try PromptSearchTaskRules.validate(task)
        let model = try smolLM2.get(expected: task.modelSha256)
        let prompt = model.tokenizer.encode(model.chat.prompt(user: Self.request(task)))
        // A proposal is measured against the longest instruction it was shown when the best has none.
        let known = task.leaderboard.map(\.instruction)
        let reference = task.instruction.isEmpty ? known.max { $0.count < $1.count } ?? "" : task.instruction
        var found: [String] = []
        for attempt in 0..<Int(task.count) * 2 where found.count < Int(task.count) {
            try context.checkCancellation()
            let sampler = Sampler(temperature: Float(task.temperature), topK: 50, topP: 0.95, seed: task.seed &+ UInt64(attempt))
            let ids: [Int]
            do throws(TensorError) { ids = try model.generate(prompt, maxTokens: Int(task.maxTokens), sampler: sampler) } catch {
                throw TaskError("generation failed: \(error)", retryable: false)
            }
            let text = Self.cleaned(model.tokenizer.decode(ids.filter { $0 != model.tokenizer.endID }))
            if Self.plausible(text, rewriting: reference), !found.contains(text), !known.contains(text) { found.append(text) }
        }
        var result = Orrery_V1_Workloads_ParaphraseResult()
        result.paraphrases = found
        return TaskOutput(metrics: ["paraphrases": Double(found.count)], payload: EnvelopeCodec.encodePayload(result))
    }

    /// Integrated gradients over each text for its predicted class, through the prompt
    /// rendered as one template (SmolLM2: instruction and demonstrations before it, the
    /// verbalizers' first tokens scored; MiniLM: the instruction before it, the verbalizers
    /// as class descriptions — its demonstrations, averaged into the class vectors when
    /// scoring, are left out), then the prompt's tokens averaged place by place.
    private func explain(_ task: Orrery_V1_Workloads_PromptExplainTask, context: TaskContext) throws -> TaskOutput {
        try PromptSearchTaskRules.validate(task)
        let prompt = task.prompt
        guard prompt.template.contains("{text}") else { throw TaskError("the prompt's template has no {text}", retryable: false) }
        let attributions: [TokenAttribution]
        do {
            let classifier: any PromptableClassifier
            switch PromptScorer(rawValue: task.scorer) {
            case .smollm2:
                let demonstrations = prompt.demonstrations.map { Demonstration(text: $0.text, label: Int($0.label)) }
                let head = LikelihoodClassifier.prefix(
                    instruction: prompt.instruction, demonstrations: demonstrations, template: prompt.template, verbalizers: prompt.verbalizers)
                classifier = try PromptedLikelihoodClassifier(
                    model: smolLM2.get(expected: task.modelSha256), template: head + prompt.template, verbalizers: prompt.verbalizers,
                    maxTextTokens: Int(task.maxTextTokens))
            case .minilm:
                classifier = try PromptedEncoderClassifier(
                    encoder: miniLM.get(expected: task.modelSha256),
                    template: prompt.instruction.isEmpty ? prompt.template : prompt.instruction + " " + prompt.template,
                    descriptions: prompt.verbalizers, maxTextTokens: Int(task.maxTextTokens))
            case nil:
                throw TaskError("unknown scorer '\(task.scorer)'", retryable: false)
            }
            attributions = try task.texts.enumerated().map { index, text throws -> TokenAttribution in
                try context.checkCancellation()
                context.reportProgress(Float(index) / Float(task.texts.count), "explaining the best prompt on text \(index + 1)/\(task.texts.count)")
                return try TokenAttribution.explain(classifier, text: text, steps: Int(task.steps), tolerance: 0.01, maximumSteps: 4 * Int(task.steps))
            }
        } catch let error as TensorError {
            throw TaskError("explaining failed: \(error)", retryable: false)
        }
        let result = Self.promptTokens(attributions)
        return TaskOutput(metrics: ["texts": Double(result.texts), "prompt_share": result.promptShare], payload: EnvelopeCodec.encodePayload(result))
    }

    /// The prompt's tokens of every explanation, averaged place by place: the tokens before
    /// the text counted from the start, those after it from the end.
    static func promptTokens(_ attributions: [TokenAttribution]) -> Orrery_V1_Workloads_PromptExplainResult {
        var sums: [String: (token: Orrery_V1_Workloads_PromptTokenAttribution, count: Int)] = [:]
        var order: [String] = []
        var shares: [Double] = [], gaps: [Double] = []
        for attribution in attributions {
            let tokens = attribution.tokens
            let head = tokens.prefix { $0.inPrompt }.count
            let tail = tokens.count == head ? 0 : tokens.reversed().prefix { $0.inPrompt }.count
            let places = (0..<head).map { (index: $0, before: true, position: $0) }
                + (0..<tail).map { (index: tokens.count - 1 - $0, before: false, position: $0) }
            for place in places {
                let token = tokens[place.index]
                let key = "\(place.before ? "b" : "a")\(place.position)"
                if sums[key] == nil {
                    var first = Orrery_V1_Workloads_PromptTokenAttribution()
                    (first.text, first.beforeText, first.position) = (token.text, place.before, UInt32(place.position))
                    sums[key] = (first, 0)
                    order.append(key)
                }
                sums[key]!.token.mean += token.attribution
                sums[key]!.token.meanMagnitude += abs(token.attribution)
                sums[key]!.count += 1
            }
            let total = tokens.reduce(Float(0)) { $0 + abs($1.attribution) }
            let prompt = places.reduce(Float(0)) { $0 + abs(tokens[$1.index].attribution) }
            shares.append(total > 0 ? Double(prompt / total) : 0)
            if let gap = attribution.completenessGap { gaps.append(Double(gap)) }
        }
        var result = Orrery_V1_Workloads_PromptExplainResult()
        result.tokens = order.map { key in
            var (token, count) = sums[key]!
            token.mean /= Float(count)
            token.meanMagnitude /= Float(count)
            return token
        }
        result.promptShare = shares.isEmpty ? 0 : shares.reduce(0, +) / Double(shares.count)
        result.completenessGap = gaps.isEmpty ? 0 : gaps.reduce(0, +) / Double(gaps.count)
        result.texts = UInt32(attributions.count)
        return result
    }

    /// What SmolLM2 is asked: to rewrite the instruction, or — score-fed, in OPRO's form —
    /// to write a better one than those on the leaderboard, which it sees with their
    /// accuracies, worst first and best last.
    static func request(_ task: Orrery_V1_Workloads_ParaphraseTask) -> String {
        guard !task.leaderboard.isEmpty else {
            return "Rewrite this instruction in other words, keeping its meaning. Reply with the new instruction only.\n\n"
                + "Instruction: \(task.instruction)"
        }
        let shown = task.leaderboard.map { String(format: "Instruction: %@\nAccuracy: %.0f%%", $0.instruction, 100 * $0.accuracy) }
        return "Here are instructions for a text classifier, each with the accuracy it reached, from worst to best.\n\n"
            + shown.joined(separator: "\n\n")
            + "\n\nWrite a new instruction that is different from all of the above and reaches a higher accuracy. "
            + "Reply with the new instruction only."
    }

    /// What a prepared prompt depends on: the scorer, the weights, the text cut and the prompt.
    static func preparedKey(_ task: Orrery_V1_Workloads_PromptScoreTask) throws -> String {
        var hasher = SHA256()
        hasher.update(Data("\(task.scorer)|\(task.modelSha256)|\(task.maxTextTokens)|".utf8))
        let prompt: Data = try task.prompt.serializedBytes()
        hasher.update(prompt)
        return hasher.finalize()
    }

    /// A small model's rewrites include fragments ("S/I.") and rambling: keep those of four
    /// words or more, at most three times as long as the original, and not the original.
    static func plausible(_ text: String, rewriting original: String) -> Bool {
        text != original && text.split(separator: " ").count >= 4 && text.count <= 3 * original.count
    }

    /// The first line of a reply, without a label such as "New instruction:" or quotes.
    static func cleaned(_ reply: String) -> String {
        var line = reply.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        if let colon = line.firstIndex(of: ":"), line.distance(from: line.startIndex, to: colon) < 24,
            line[..<colon].lowercased().contains("instruction")
        {
            line = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return line.trimmingCharacters(in: CharacterSet(charactersIn: "\"'“”` "))
    }
}
