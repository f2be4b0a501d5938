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
        let problem = try PromptProblem(task.problem, data: texts.load(task.problem.task))
        let classifier = try makeClassifier(task, problem: problem)
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }
        var result = Orrery_V1_Workloads_PromptTuneResult()
        let chunk = Int(task.microBatch) * 4
        result.discreteHits = try PromptTuner.hits(problem.test, chunk: chunk, communicator: communicator) { texts throws(TensorError) in
            try classifier.logits(texts, prompt: nil)
        }
        let (method, reported) = try makeMethod(task, classifier: classifier, context: context)
        let tuner = PromptTuner(method: method, task: task)
        let summary = try tuner.train(problem.train, communicator: communicator, context: context, progress: "\(task.variant) on \(problem.name)")
        let trainable = method.parameters.reduce(0) { $0 + $1.tensor.count }
        try method.finish()
        result.hits = task.method == "zero-shot"
            ? result.discreteHits : try PromptTuner.hits(problem.test, chunk: chunk, communicator: communicator, logits: method.logits)
        guard (communicator?.rank ?? 0) == 0 else { return nil }
        if let savePath {
            result.savedSha256 = try PromptArtifact.save(
                method.artifact(), to: savePath, model: task.model, modelSHA256: task.modelSha256, method: task.method,
                extra: ["orrery.variant": task.variant, "orrery.problem": problem.name, "orrery.template": task.template])
        }
        result.variant = task.variant
        result.workers = UInt32(communicator?.worldSize ?? 1)
        result.problem = problem.name
        result.seed = task.seed
        result.finalTrainLoss = summary.finalLoss
        result.seconds = summary.seconds
        result.examplesPerSecond = summary.examplesPerSecond
        result.resumedAt = UInt32(summary.resumedAt)
        result.trainableParameters = UInt32(trainable)
        result.searchReportedAccuracy = reported ?? 0
        return result
    }

    private func metaTrain(_ task: Orrery_V1_Workloads_PromptTuneTask, savePath: String?, context: TaskContext) throws -> Orrery_V1_Workloads_PromptTuneResult? {
        let encoder = try miniLM.get(expected: task.modelSha256)
        let sources = try task.meta.sources.map { source throws -> PromptMetaTrainer.Source in
            let data = try texts.load(source.task)
            let classes = try PromptProblem.classes(source, data: data, rule: TaskRule(subject: "prompt-tune source \(source.task)"))
            let kept = classes == data.classes ? data : data.restricted(to: classes)
            let descriptions = source.task == "wordnet-glosses" ? classes.map(TextFewShotBenchmark.describe) : classes
            let classifier = try PromptedEncoderClassifier(
                encoder: encoder, template: task.template, descriptions: descriptions, maxTextTokens: Int(task.maxTextTokens))
            let byClass = classes.indices.map { label in kept.targets.indices.filter { kept.targets[$0] == label }.map { kept.texts[$0] } }
            if let thin = byClass.firstIndex(where: { $0.count < Int(task.meta.shots + task.meta.queries) }) {
                throw TaskError("prompt-tune source \(source.task): class '\(classes[thin])' has fewer than shots + queries examples", retryable: false)
            }
            return PromptMetaTrainer.Source(name: PromptProblem.name(source, classes: classes), byClass: byClass, classifier: classifier)
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
        result.variant = task.variant
        result.workers = UInt32(communicator?.worldSize ?? 1)
        result.seed = task.seed
        result.metaQueryAccuracy = summary.queryAccuracy
        result.finalTrainLoss = summary.queryLoss
        result.examplesPerSecond = summary.episodesPerSecond
        result.seconds = summary.seconds
        result.resumedAt = UInt32(summary.resumedAt)
        result.trainableParameters = UInt32(trainer.initialization.vectors.count)
        return result
    }

    /// The frozen model as a classifier of the problem's classes. LoRA gets its own copy.
    private func makeClassifier(_ task: Orrery_V1_Workloads_PromptTuneTask, problem: PromptProblem) throws -> any PromptableClassifier {
        do {
            switch PromptScorer(rawValue: task.model)! {
            case .minilm:
                var encoder = try miniLM.get(expected: task.modelSha256)
                if task.method == "lora" { encoder = try SentenceEncoder(directory: miniLMDirectory) }
                return try PromptedEncoderClassifier(
                    encoder: encoder, template: task.template, descriptions: problem.descriptions, maxTextTokens: Int(task.maxTextTokens))
            case .smollm2:
                var model = try smolLM2.get(expected: task.modelSha256)
                if task.method == "lora" { model = try CausalLanguageModel(path: model.path) }
                return try PromptedLikelihoodClassifier(
                    model: model, template: task.template, verbalizers: problem.descriptions, maxTextTokens: Int(task.maxTextTokens))
            }
        } catch let error as TensorError {
            throw TaskError("prompt-tune task: \(error)", retryable: false)
        }
    }

    /// The method the task names, started from its initialization; and, for a prompt
    /// started from a search report, the test accuracy the search reported.
    private func makeMethod(_ task: Orrery_V1_Workloads_PromptTuneTask, classifier: any PromptableClassifier, context: TaskContext) throws -> (any TuningMethod, Double?) {
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
        default: return (ZeroShotMethod(classifier: classifier), nil)
        }
    }

    static func metrics(_ result: Orrery_V1_Workloads_PromptTuneResult) -> [String: Double] {
        var metrics = ["seconds": result.seconds, "final_train_loss": result.finalTrainLoss]
        if !result.hits.isEmpty {
            metrics["test_accuracy"] = PromptTuneReport.accuracy(result.hits)
            metrics["discrete_accuracy"] = PromptTuneReport.accuracy(result.discreteHits)
        }
        if result.metaQueryAccuracy > 0 { metrics["meta_query_accuracy"] = result.metaQueryAccuracy }
        return metrics
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
