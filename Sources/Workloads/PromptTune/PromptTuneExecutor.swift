import Collectives
import Datasets
import Foundation
import LanguageModels
import NN
import Runtime
import Tensor
import Wire

/// Runs `prompt-tune` tasks on a worker (alone, or as one member of a gang): builds the
/// frozen model's classifier for the problem, scores the untuned discrete prompt, tunes
/// the task's method, scores it, and saves what it tuned. Models are loaded once and kept,
/// checked against the digest the task names; LoRA, which changes its model's weights when
/// it merges, gets a private copy (read from the file whose digest was just checked).
final class PromptTuneExecutor: Executor, Sendable {
    private let smolLM2: VerifiedModel<CausalLanguageModel>
    private let miniLM: VerifiedModel<SentenceEncoder>
    private let miniLMDirectory: String
    private let texts = LabeledTextCache()

    init(smolLM2Path: String = CausalLanguageModel.defaultPath, miniLMDirectory: String = SentenceEncoder.defaultDirectory) {
        smolLM2 = VerifiedModel(name: "SmolLM2", weightsPath: smolLM2Path) { try CausalLanguageModel(path: smolLM2Path) }
        miniLM = VerifiedModel(name: "MiniLM", weightsPath: "\(miniLMDirectory)/model.safetensors") { try SentenceEncoder(directory: miniLMDirectory) }
        self.miniLMDirectory = miniLMDirectory
    }

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptTuneTask.self, from: payload)
        try PromptTuneRules.validate(task)
        // Refused before any tuning, not after.
        let savePath = task.savePath.isEmpty ? nil : try context.outputPath(task.savePath)
        let result = task.hasMeta ? try metaTrain(task, savePath: savePath, context: context) : try tune(task, savePath: savePath, context: context)
        guard let result else { return TaskOutput(metrics: [:]) }  // a gang member other than rank 0
        return TaskOutput(metrics: Self.metrics(result), payload: try result.serializedData())
    }

    private func tune(_ task: Orrery_V1_Workloads_PromptTuneTask, savePath: String?, context: TaskContext) throws -> Orrery_V1_Workloads_PromptTuneResult? {
        let problems = try (task.joint.isEmpty ? [task.problem] : task.joint).map {
            try PromptProblem($0, data: texts.load($0.task), unlabeled: Int(task.distill.unlabeled))
        }
        // A student's teacher logits are checked against its texts before any model loads.
        let distilled = task.hasDistill && task.method != "teacher" ? try Self.distilled(task, problem: problems[0]) : nil
        let classifiers = try problems.map { try makeClassifier(task, problem: $0) }
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }
        if task.method == "teacher" { return try teach(task, problem: problems[0], classifier: classifiers[0], communicator: communicator, context: context) }
        let chunk = Int(task.microBatch) * 4
        let discrete = try zip(problems, classifiers).map { problem, classifier in
            try PromptTuner.scored(problem.test, classes: problem.classes.count, chunk: chunk, communicator: communicator) { texts throws(TensorError) in
                try classifier.logits(texts, prompt: nil)
            }
        }
        let (method, reported) = try makeMethod(task, classifier: classifiers[0], problem: problems[0], context: context)
        let others = try classifiers.dropFirst().map { classifier in
            guard let shared = method.sharing(with: classifier) else {
                throw TaskError("prompt-tune task: \(task.method) cannot share its parameters across problems", retryable: false)
            }
            return shared
        }
        let name = problems.count == 1 ? problems[0].name : "joint[\(problems.map(\.name).joined(separator: ";"))]"
        let tuner = PromptTuner(method: method, sharing: others, task: task)
        let examples = distilled ?? PromptTuner.examples(problems.map(\.train))
        let summary = try tuner.train(examples, communicator: communicator, context: context, progress: "\(task.variant) on \(name)")
        let trainable = tuner.parameters.reduce(0) { $0 + $1.tensor.count }
        try method.finish()
        let tuned = try zip(problems, tuner.methods).map { problem, method in
            task.method == "zero-shot"
                ? nil : try PromptTuner.scored(problem.test, classes: problem.classes.count, chunk: chunk, communicator: communicator, logits: method.logits)
        }
        // The same model again with its linear layers in int8 (the classifier's own copy).
        let int8 = try task.int8 ? { () throws -> (hits: [Bool], textsPerSecond: Double) in
            try classifiers[0].quantizeToInt8()
            method.modelChanged()
            return try PromptTuner.scored(problems[0].test, classes: problems[0].classes.count, chunk: chunk, communicator: communicator, logits: method.logits)
        }() : nil
        guard (communicator?.rank ?? 0) == 0 else { return nil }
        var result = Orrery_V1_Workloads_PromptTuneResult()
        if let savePath {
            result.savedSha256 = try PromptArtifact.save(
                method.artifact(), to: savePath, model: task.model, modelSHA256: task.modelSha256, method: task.method,
                extra: ["orrery.variant": task.variant, "orrery.problem": name, "orrery.template": task.template])
        }
        result.describe(
            task, workers: communicator?.worldSize ?? 1, loss: summary.finalLoss, seconds: summary.seconds,
            rate: summary.examplesPerSecond, resumedAt: summary.resumedAt, trainable: trainable)
        result.problem = name
        result.searchReportedAccuracy = reported ?? 0
        if let chosen = method.chosen { (result.chosenPrompt, result.chosenTrainAccuracy) = chosen }
        if task.joint.isEmpty {
            result.discreteHits = discrete[0].hits
            result.hits = tuned[0]?.hits ?? discrete[0].hits
            result.textsPerSecond = tuned[0]?.textsPerSecond ?? discrete[0].textsPerSecond
            if let int8 { (result.int8Hits, result.int8TextsPerSecond) = (int8.hits, int8.textsPerSecond) }
        } else {
            result.parts = zip(problems, zip(tuned, discrete)).map { problem, scored in
                var part = Orrery_V1_Workloads_JointPart()
                (part.problem, part.hits, part.discreteHits) = (problem.name, scored.0?.hits ?? scored.1.hits, scored.1.hits)
                return part
            }
        }
        return result
    }

    /// A distillation teacher's task: the class logits of the problem's unlabeled texts
    /// (what its students learn from), and its own test accuracy and speed, with the
    /// discrete prompt and, when the task names one, a tuned soft prompt read from a file.
    private func teach(
        _ task: Orrery_V1_Workloads_PromptTuneTask, problem: PromptProblem, classifier: any PromptableClassifier, communicator: Communicator?,
        context: TaskContext
    ) throws -> Orrery_V1_Workloads_PromptTuneResult? {
        let started = Date()
        let prompt = task.init_p.kind.isEmpty ? nil : try PromptInitializer(
            classifier: classifier, length: Int(task.promptLength), modelSHA256: task.modelSha256, model: task.model
        ).start(task.init_p, seed: task.seed, resolve: { try context.outputPath($0) }).vectors
        let logits = { (texts: [String]) throws(TensorError) -> Tensor in try classifier.logits(texts, prompt: prompt) }
        let chunk = Int(task.microBatch) * 4
        context.reportProgress(0, "teacher \(task.model) labels \(problem.unlabeled.count) texts of \(problem.name)")
        let labeled = try PromptTuner.gathered(problem.unlabeled, classes: problem.classes.count, chunk: chunk, communicator: communicator, logits: logits)
        context.reportProgress(0.8, "teacher \(task.model) scores \(problem.test.count) test texts")
        let test = try PromptTuner.scored(problem.test, classes: problem.classes.count, chunk: chunk, communicator: communicator, logits: logits)
        guard (communicator?.rank ?? 0) == 0 else { return nil }
        var result = Orrery_V1_Workloads_PromptTuneResult()
        result.describe(
            task, workers: communicator?.worldSize ?? 1, loss: 0, seconds: Date().timeIntervalSince(started), rate: labeled.textsPerSecond,
            resumedAt: 0, trainable: 0)
        result.problem = problem.name
        (result.hits, result.discreteHits, result.textsPerSecond) = (test.hits, test.hits, test.textsPerSecond)
        result.teacherLogits = labeled.logits
        return result
    }

    /// A student's training examples: the problem's unlabeled texts with the teacher's
    /// logits, which must be one row per text.
    static func distilled(_ task: Orrery_V1_Workloads_PromptTuneTask, problem: PromptProblem) throws -> [PromptTuner.Example] {
        let classes = problem.classes.count
        guard task.distill.teacherLogits.count == problem.unlabeled.count * classes else {
            throw TaskError(
                "prompt-tune task: \(task.distill.teacherLogits.count) teacher logits for \(problem.unlabeled.count) unlabeled texts of \(classes) classes",
                retryable: false)
        }
        return PromptTuner.distilled(problem.unlabeled, logits: task.distill.teacherLogits, classes: classes)
    }

    private func metaTrain(_ task: Orrery_V1_Workloads_PromptTuneTask, savePath: String?, context: TaskContext) throws -> Orrery_V1_Workloads_PromptTuneResult? {
        let encoder = try miniLM.get(expected: task.modelSha256)
        let sources = try task.meta.sources.map { source throws -> PromptMetaTrainer.Source in
            let data = try texts.load(source.task)
            let classes = try PromptProblem.classes(source, data: data, rule: TaskRule(subject: "prompt-tune source \(source.task)"))
            let kept = classes == data.classes ? data : data.restricted(to: classes)
            let descriptions = source.task == "wordnet-glosses" ? classes.map(TextFewShotBenchmark.describeWordNet) : classes
            let classifier = try PromptedEncoderClassifier(
                encoder: encoder, template: task.template, descriptions: descriptions, maxTextTokens: Int(task.maxTextTokens),
                checkpointed: task.gradientCheckpointing)
            let byClass = classes.indices.map { label in kept.targets.indices.filter { kept.targets[$0] == label }.map { kept.texts[$0] } }
            if let thin = byClass.firstIndex(where: { $0.count < Int(task.meta.shots + task.meta.queries) }) {
                throw TaskError("prompt-tune source \(source.task): class '\(classes[thin])' has fewer than shots + queries examples", retryable: false)
            }
            return PromptMetaTrainer.Source(byClass: byClass, classifier: classifier)
        }
        let start = try PromptInitializer(
            classifier: sources[0].classifier, length: Int(task.promptLength), modelSHA256: task.modelSha256, model: task.model
        ).start(task.init_p, seed: task.seed, resolve: { try context.outputPath($0) })
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }
        let trainer = PromptMetaTrainer(
            sources: sources, meta: task.meta, initialization: SoftPrompt(initial: start.vectors), seed: task.seed,
            checkpointEvery: Int(task.checkpointEvery))
        let summary = try trainer.train(communicator: communicator, context: context)
        guard (communicator?.rank ?? 0) == 0 else { return nil }
        var result = Orrery_V1_Workloads_PromptTuneResult()
        if let savePath {
            result.savedSha256 = try PromptArtifact.save(
                trainer.initialization.namedParameters(), to: savePath, model: task.model, modelSHA256: task.modelSha256,
                method: "soft-prompt", extra: ["orrery.meta_algorithm": task.meta.algorithm, "orrery.template": task.template])
        }
        result.describe(
            task, workers: communicator?.worldSize ?? 1, loss: summary.queryLoss, seconds: summary.seconds,
            rate: summary.episodesPerSecond, resumedAt: summary.resumedAt, trainable: trainer.initialization.vectors.count)
        result.metaQueryAccuracy = summary.queryAccuracy
        return result
    }

    /// The frozen model as a classifier of the problem's classes. LoRA gets its own copy.
    private func makeClassifier(_ task: Orrery_V1_Workloads_PromptTuneTask, problem: PromptProblem) throws -> any PromptableClassifier {
        do {
            switch PromptScorer(rawValue: task.model)! {
            case .minilm:
                var encoder = try miniLM.get(expected: task.modelSha256)
                // Merging adapters, pruning and going int8 change the weights: those tasks get their own copy.
                let pruned = task.pruneHeads != 0 || task.pruneFeedForward != 0
                if task.method == "lora" || task.int8 || pruned { encoder = try SentenceEncoder(directory: miniLMDirectory) }
                if pruned {
                    try encoder.model.prune(
                        heads: Double(task.pruneHeads == 0 ? 1 : task.pruneHeads), feedForward: Double(task.pruneFeedForward == 0 ? 1 : task.pruneFeedForward))
                }
                return try PromptedEncoderClassifier(
                    encoder: encoder, template: task.template, descriptions: problem.descriptions, maxTextTokens: Int(task.maxTextTokens),
                    checkpointed: task.gradientCheckpointing)
            case .smollm2:
                var model = try smolLM2.get(expected: task.modelSha256)
                if task.method == "lora" { model = try CausalLanguageModel(path: model.path) }
                return try PromptedLikelihoodClassifier(
                    model: model, template: task.template, verbalizers: problem.descriptions, maxTextTokens: Int(task.maxTextTokens),
                    checkpointed: task.gradientCheckpointing)
            }
        } catch let error as TensorError {
            throw TaskError("prompt-tune task: \(error)", retryable: false)
        }
    }

    /// The method the task names, started from its initialization; and, for a prompt
    /// started from a search report, the test accuracy the search reported.
    private func makeMethod(
        _ task: Orrery_V1_Workloads_PromptTuneTask, classifier: any PromptableClassifier, problem: PromptProblem, context: TaskContext
    ) throws -> (any TuningMethod, Double?) {
        func start() throws -> PromptInitializer.Start {
            try PromptInitializer(classifier: classifier, length: Int(task.promptLength), modelSHA256: task.modelSha256, model: task.model)
                .start(task.init_p, seed: task.seed, resolve: { try context.outputPath($0) })
        }
        switch task.method {
        case "soft-prompt":
            let initial = try start()
            return (SoftPromptMethod(classifier: classifier, initial: initial.vectors), initial.searchReportedAccuracy)
        case "p-tuning":
            let initial = try start()
            return (PTuningMethod(classifier: classifier, initial: initial.vectors, hidden: Int(task.reparameterizationHidden), seed: task.seed), initial.searchReportedAccuracy)
        case "lora":
            return (LoRAMethod(classifier: classifier, rank: Int(task.loraRank), alpha: task.loraAlpha, seed: task.seed), nil)
        case "linear-probe": return (LinearProbeMethod(classifier: classifier), nil)
        case "discrete-search":
            let search = try DiscreteSearch(task.discreteSearch, classes: problem.classes, descriptions: problem.descriptions)
            return (try DiscreteSearchMethod(search: search, shots: problem.train, scorer: Self.scorer(task, classifier: classifier)), nil)
        default: return (ZeroShotMethod(classifier: classifier), nil)
        }
    }

    /// The classifier's own model as a discrete search scores prompts with it: the pruned
    /// or int8 copy when the task made one, so that the search and the untuned prompt it is
    /// compared with run on the same weights.
    private static func scorer(_ task: Orrery_V1_Workloads_PromptTuneTask, classifier: any PromptableClassifier) throws -> any FewShotPromptScorer {
        if let encoder = (classifier as? PromptedEncoderClassifier)?.encoder {
            return EncoderPromptScorer(encoder: encoder, maxTextTokens: Int(task.maxTextTokens))
        }
        if let model = (classifier as? PromptedLikelihoodClassifier)?.model {
            return LikelihoodPromptScorer(model: model, maxTextTokens: Int(task.maxTextTokens), chunk: Int(task.microBatch) * 4)
        }
        throw TaskError("prompt-tune task: no discrete search for a \(type(of: classifier))", retryable: false)
    }

    static func metrics(_ result: Orrery_V1_Workloads_PromptTuneResult) -> [String: Double] {
        var metrics = ["seconds": result.seconds, "final_train_loss": result.finalTrainLoss]
        if !result.hits.isEmpty {
            metrics["test_accuracy"] = PromptTuneReport.accuracy(result.hits)
            metrics["discrete_accuracy"] = PromptTuneReport.accuracy(result.discreteHits)
        }
        if result.metaQueryAccuracy > 0 { metrics["meta_query_accuracy"] = result.metaQueryAccuracy }
        if result.textsPerSecond > 0 { metrics["test_texts_per_second"] = result.textsPerSecond }
        if !result.int8Hits.isEmpty { metrics["int8_test_accuracy"] = PromptTuneReport.accuracy(result.int8Hits) }
        return metrics
    }
}

extension Orrery_V1_Workloads_PromptTuneResult {
    /// The fields every task's result has: which task, on how many workers, how training went.
    mutating func describe(
        _ task: Orrery_V1_Workloads_PromptTuneTask, workers: Int, loss: Double, seconds: Double, rate: Double, resumedAt: Int, trainable: Int
    ) {
        (variant, seed, self.workers) = (task.variant, task.seed, UInt32(workers))
        (finalTrainLoss, self.seconds, examplesPerSecond) = (loss, seconds, rate)
        (self.resumedAt, trainableParameters) = (UInt32(resumedAt), UInt32(trainable))
    }
}

/// Labeled text tasks read so far in this worker, shared by its task threads.
final class LabeledTextCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: LabeledText] = [:]

    /// - Throws: a non-retryable `TaskError` when the task's file is missing or malformed.
    func load(_ name: String) throws -> LabeledText {
        try lock.withLock { () throws -> LabeledText in
            if let data = loaded[name] { return data }
            do {
                let data = try LabeledText.load(name)
                loaded[name] = data
                return data
            } catch {
                throw TaskError("prompt-tune task: \(error)", retryable: false)
            }
        }
    }
}
