import Collectives
import Datasets
import Foundation
import LanguageModels
import NN
import Tensor
import Wire

/// Meta-learns where a soft prompt should start (MetaPrompting, Hou et al. 2022, with
/// first-order updates): every meta-step draws `meta_batch` N-way episodes from the
/// source problems, tunes a copy of the prompt on each episode's support examples exactly
/// as a downstream tuning task would (`inner_steps` Adam steps at `inner_lr`), and moves
/// the initialization — towards the tuned prompts (Reptile: the "gradient" is θ − φ, with
/// SGD at `outer_lr` as the step ε), or along the query loss's gradient at the tuned
/// prompt (first-order MAML, with Adam). Episodes are drawn by index from the seed and
/// shared out over the gang by `ExactDataParallelLoop`, so the result does not depend on
/// the number of workers.
struct PromptMetaTrainer {
    /// One source problem's texts by class, and its classifier over all its classes.
    struct Source {
        let byClass: [[String]]
        let classifier: PromptedEncoderClassifier
    }

    let sources: [Source]
    let meta: Orrery_V1_Workloads_PromptMetaTraining
    let initialization: SoftPrompt
    let seed: UInt64
    let checkpointEvery: Int

    /// One drawn episode: its classifier (the drawn classes' vectors) and examples.
    struct Episode {
        let classifier: PromptedEncoderClassifier
        let support: [(text: String, label: Int)]
        let query: [(text: String, label: Int)]
    }

    func episode(_ index: Int) throws -> Episode {
        var generator = SplitMix64(seed: seed ^ (0xE915_0DE5 &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let source = sources[Int(generator.next() % UInt64(sources.count))]
        let ways = min(Int(meta.ways), source.byClass.count)
        let classes = Array(PromptSearchSplits.shuffled(source.byClass.count, seed: generator.next()).prefix(ways))
        var support: [(String, Int)] = [], query: [(String, Int)] = []
        for (label, original) in classes.enumerated() {
            let texts = source.byClass[original]
            let picked = PromptSearchSplits.shuffled(texts.count, seed: generator.next()).prefix(Int(meta.shots + meta.queries))
            for (position, row) in picked.enumerated() {
                if position < Int(meta.shots) { support.append((texts[row], label)) } else { query.append((texts[row], label)) }
            }
        }
        return Episode(classifier: try source.classifier.selecting(classes), support: support, query: query)
    }

    struct Summary {
        var queryLoss = 0.0
        var queryAccuracy = 0.0
        var resumedAt = 0
        var seconds = 0.0
        var episodesPerSecond = 0.0
    }

    func train(communicator: Communicator?, context: TaskContext) throws -> Summary {
        let metaBatch = Int(meta.metaBatch), steps = Int(meta.metaSteps)
        let parameters = initialization.namedParameters()
        let reptile = meta.algorithm == "reptile"
        let optimizer: any Optimizer = reptile
            ? SGD(parameters: [initialization.vectors], learningRate: meta.outerLr)
            : Adam(parameters: [initialization.vectors], learningRate: meta.outerLr)
        let loop = ExactDataParallelLoop(
            parameters: parameters, optimizer: optimizer, steps: steps, slotsPerStep: metaBatch, gradientScale: 1 / Float(metaBatch),
            checkpointEvery: checkpointEvery, metadata: ["orrery.algorithm": meta.algorithm])
        var summary = Summary()
        var window = MetaStepWindow(steps: steps, metaBatch: metaBatch)
        let started = Date()
        summary.resumedAt = try loop.run(statisticCount: 2, communicator: communicator, context: context) { step, slot in
            let episode = try episode(step * metaBatch + slot)
            let adapted = try adapt(episode)
            let logits = try adapted.logits(episode.query.map(\.text))
            let loss = try Tensor.crossEntropy(logits: logits, targets: episode.query.map(\.label))
            let predicted = PromptTuner.predictions(logits)
            let accuracy = Float(zip(predicted, episode.query).filter { $0 == $1.label }.count) / Float(max(1, episode.query.count))
            let gradient: Tensor
            if reptile {
                gradient = try withNoGrad { () throws(TensorError) in try initialization.vectors.detached() - adapted.prompt.vectors.detached() }
            } else {
                try loss.backward()
                gradient = adapted.prompt.vectors.grad ?? Tensor.zeros(initialization.vectors.shape)
            }
            return .init(gradients: [gradient], statistics: [loss.item, accuracy])
        } afterStep: { step, statistics in
            guard window.add(step: step, statistics: statistics) else { return }
            (summary.queryLoss, summary.queryAccuracy) = (window.queryLoss, window.queryAccuracy)
            if (communicator?.rank ?? 0) == 0 {
                context.record(step: step + 1, ["query/loss": window.queryLoss, "query/accuracy": window.queryAccuracy])
                context.reportProgress(Float(step + 1) / Float(steps), window.note(step: step, after: "tuning", workers: communicator?.worldSize ?? 1))
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.episodesPerSecond = Double((steps - summary.resumedAt) * metaBatch) / max(summary.seconds, 1e-9)
        return summary
    }

    /// A copy of the initialization tuned on the episode's support examples, as a downstream
    /// tuning task would tune it (full-batch Adam).
    func adapt(_ episode: Episode) throws -> SoftPromptMethod {
        let method = SoftPromptMethod(classifier: episode.classifier, initial: initialization.vectors.detached())
        let optimizer = Adam(parameters: [method.prompt.vectors], learningRate: meta.innerLr)
        let texts = episode.support.map(\.text), labels = episode.support.map(\.label)
        for _ in 0..<Int(meta.innerSteps) {
            method.prompt.vectors.zeroGrad()
            try Tensor.crossEntropy(logits: method.logits(texts), targets: labels).backward()
            optimizer.step()
        }
        method.prompt.vectors.zeroGrad()
        return method
    }
}
