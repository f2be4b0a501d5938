import Datasets
import Foundation
import NN
import Runtime
import Tensor
import Wire

/// Meta-trains and evaluates in this process (alone or as one member of a gang); rank 0
/// returns the metrics and every episode's accuracy.
struct MetaLearnExecutor: Executor {
    /// Benchmarks take seconds to build; a worker builds each (name, side) once.
    private let benchmarks = BenchmarkCache()

    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_MetaLearnTask.self, from: payload)
        try MetaLearnRules.validate(task)
        // Refused before hours of meta-training, not after.
        let savePath = task.savePath.isEmpty ? nil : try context.outputPath(task.savePath)
        let benchmark: FewShotBenchmark
        do {
            benchmark = try benchmarks.load(task.benchmark, side: Int(task.imageSize))
            // Every split the task will draw from must supply its episodes: refused now,
            // not after meta-training (and never retried: the data will not change).
            for shots in MetaLearnRules.evaluatedShots(task) {
                _ = try benchmark.sampler(.metaTest, ways: Int(task.ways), shots: shots, queries: Int(task.queries))
                if task.baselines { _ = try benchmark.sampler(.metaValidation, ways: Int(task.ways), shots: shots, queries: Int(task.queries)) }
            }
            if task.validateEvery > 0 { _ = try benchmark.sampler(.metaValidation, ways: Int(task.ways), shots: Int(task.shots), queries: Int(task.queries)) }
        } catch let error as DatasetError {
            throw TaskError("meta-learn task: \(error)", retryable: false)
        }
        if task.classDescriptions && benchmark.descriptions == nil {
            throw TaskError("meta-learn task: class_descriptions needs a benchmark with class descriptions (\(TextFewShotBenchmark.names.joined(separator: ", "))); \(task.benchmark) has none", retryable: false)
        }
        let algorithm = try Self.algorithm(task, features: benchmark.pool.features, descriptions: benchmark.descriptions)
        let communicator = try context.gang?.makeCommunicator(isCancelled: { context.isCancelled })
        defer { communicator?.close() }

        let trainer = MetaTrainer(task: task, algorithm: algorithm)
        let sampler = try benchmark.sampler(.metaTrain, ways: Int(task.ways), shots: Int(task.shots), queries: Int(task.queries))
        let evaluation = FewShotEvaluation(task: task, benchmark: benchmark, communicator: communicator)
        let validation = task.validateEvery == 0 ? nil : MetaValidation(every: Int(task.validateEvery), shapes: trainer.parameters.map(\.shape)) {
            try evaluation.meanScore(.metaValidation, shots: Int(task.shots), episodes: Int(task.validationEpisodes)) {
                try algorithm.adaptedAccuracy($0, parameters: trainer.parameters)
            }
        }
        let summary = try trainer.train(sampler, communicator: communicator, context: context, validation: validation)

        var rows: [FewShotEvaluation.Row] = []
        for shots in MetaLearnRules.evaluatedShots(task) {
            rows.append(try evaluation.row(task.algorithm, shots: shots) { try algorithm.adaptedAccuracy($0, parameters: trainer.parameters) })
        }
        if task.baselines {
            rows += try baselineRows(task, benchmark: benchmark, evaluation: evaluation, context: context)
        }
        guard (communicator?.rank ?? 0) == 0 else { return TaskOutput(metrics: ["rank": Double(communicator!.rank)]) }
        if let savePath {
            try Safetensors.save(trainer.named, to: savePath, metadata: ["orrery.algorithm": task.algorithm, "orrery.benchmark": task.benchmark])
        }
        let result = MetaLearnResult(
            rows: rows, metaParametersSHA256: Self.digest(trainer.parameters), queryLoss: summary.queryLoss,
            queryAccuracy: summary.queryAccuracy, episodesPerSecond: summary.episodesPerSecond, seconds: summary.seconds,
            workers: communicator?.worldSize ?? 1, resumedAt: summary.resumedAt,
            parameters: trainer.parameters.reduce(0) { $0 + $1.count },
            validation: validation.flatMap(MetaLearnResult.Validation.init))
        return TaskOutput(metrics: result.metrics(task), payload: try JSONEncoder().encode(result))
    }

    /// The network the task names, without a head: an MLP of `hidden` widths (adding to its
    /// input when `residual`), or the convolutional blocks of `channels` over square images.
    static func body(_ task: Orrery_V1_Workloads_MetaLearnTask, features: Int) -> any FunctionalNetwork {
        if task.model == "cnn" { return FunctionalCNN(side: Int(task.imageSize), channels: task.channels.map(Int.init), headOutputs: nil) }
        let hidden = task.hidden.map(Int.init)
        return task.residual
            ? FunctionalResidualMLP(inputWidth: features, hiddenWidths: hidden, headOutputs: nil)
            : FunctionalMLP(bodyWidths: [features] + hidden, headOutputs: nil)
    }

    /// The algorithm the task names, on its network: with a head of `ways` outputs, except
    /// for prototypical networks, whose body's features are the embedding.
    static func algorithm(_ task: Orrery_V1_Workloads_MetaLearnTask, features: Int, descriptions: [[Float]]? = nil) throws -> any MetaAlgorithm {
        let body = Self.body(task, features: features)
        let headed = body.withHead(Int(task.ways))
        let inner = InnerLoop(steps: Int(task.innerSteps), learningRate: task.innerLr)
        switch task.algorithm {
        case "maml": return MAML(network: headed, inner: inner)
        case "meta-sgd": return MetaSGD(network: headed, inner: inner)
        case "fomaml": return FirstOrderMAML(network: headed, inner: inner)
        case "reptile": return Reptile(network: headed, inner: inner)
        case "anil": return ANIL(network: headed, inner: inner)
        case "protonet":
            return PrototypicalNetwork(network: body, descriptions: task.classDescriptions ? descriptions : nil)
        default: throw TaskError("meta-learn task: unknown algorithm '\(task.algorithm)'", retryable: false)
        }
    }

    /// Random initialization fine-tuned with the meta-learner's own inner loop (its steps
    /// and learning rate), and transfer from supervised pre-training (a new head alone, and
    /// everything, each fine-tuned for `transferSteps` at a learning rate chosen on
    /// meta-validation episodes, so that a weak baseline is not a badly tuned one), on the
    /// same episodes.
    private func baselineRows(
        _ task: Orrery_V1_Workloads_MetaLearnTask, benchmark: FewShotBenchmark, evaluation: FewShotEvaluation, context: TaskContext
    ) throws -> [FewShotEvaluation.Row] {
        let body = Self.body(task, features: benchmark.pool.features)
        let network = body.withHead(Int(task.ways))
        var generator = SplitMix64(seed: task.seed ^ 0xBA5E_11E5)
        let initial = network.initialParameters(using: &generator)
        let randomInit = FirstOrderMAML(network: network, inner: InnerLoop(steps: Int(task.innerSteps), learningRate: task.innerLr))
        let transfer = try TransferBaseline(
            task: task, body: body, pool: benchmark.pool, classes: benchmark.splits[.metaTrain] ?? [], context: context)
        let rates = FewShotEvaluation.tuningRates
        var rows: [FewShotEvaluation.Row] = []
        for shots in MetaLearnRules.evaluatedShots(task) {
            rows.append(try evaluation.row("random-init", shots: shots, rate: task.innerLr) { try randomInit.adaptedAccuracy($0, parameters: initial) })
            for (method, whole) in [("transfer-head", false), ("transfer-all", true)] {
                let score = { (episode: Episode, rate: Float) throws -> Float in
                    try transfer.accuracy(episode, steps: Self.transferSteps, rate: rate, wholeNetwork: whole)
                }
                let rate = try evaluation.tunedRate(rates, shots: shots, score)
                rows.append(try evaluation.row(method, shots: shots, rate: rate) { try score($0, rate) })
            }
            if let descriptions = benchmark.descriptions {
                rows.append(try evaluation.row("zero-shot", shots: shots) { try Self.zeroShotAccuracy($0, descriptions: descriptions) })
            }
        }
        return rows
    }

    /// The zero-shot baseline of text benchmarks: each query goes to the class whose
    /// description's embedding is nearest (both are unit vectors: the largest dot product),
    /// using no support example at all.
    static func zeroShotAccuracy(_ episode: Episode, descriptions: [[Float]]) throws -> Float {
        let classes = episode.classes.flatMap { descriptions[$0] }
        let table = Tensor(shape: [episode.ways, episode.query.shape[1]], storage: Storage(classes))
        return try withNoGrad { () throws -> Float in
            try EpisodeScore.accuracy(try episode.query.matmul(table, transposeB: true), episode.queryLabels)
        }
    }

    /// Fine-tuning steps of the transfer baselines: enough for a linear probe to converge.
    static let transferSteps = 100

    /// sha256 of the meta-parameters' float32 bytes, in order: equal digests, equal bits.
    static func digest(_ parameters: [Tensor]) -> String {
        var hash = SHA256()
        for parameter in parameters { parameter.storage.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) } }
        return hash.finalize()
    }
}

/// Benchmarks built so far in this worker, shared by its task threads.
final class BenchmarkCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: FewShotBenchmark] = [:]

    func load(_ name: String, side: Int) throws -> FewShotBenchmark {
        lock.lock()
        defer { lock.unlock() }
        let text = TextFewShotBenchmark.named(name)
        let key = text == nil ? "\(name)@\(side)" : name
        if let benchmark = loaded[key] { return benchmark }
        let benchmark = try text?.load() ?? FewShotBenchmark.load(name, side: side)
        loaded[key] = benchmark
        return benchmark
    }
}
