import Datasets
import Foundation
import NN
import Tensor
import Wire

/// The compression methods a `compress` task runs: each takes the checked task and the
/// data, and returns the scored model (`CompressedModelScore`).
struct CompressionMethods {
    let task: Orrery_V1_Workloads_CompressTask
    let base: ArchitectureRecipe
    let student: ArchitectureRecipe?
    let train: LabeledImages
    let test: LabeledImages
    let context: TaskContext

    func run() throws -> Orrery_V1_Workloads_CompressResult {
        let started = Date()
        var result: Orrery_V1_Workloads_CompressResult
        switch task.method {
        case "base": result = try trainBase()
        case "int8": result = try int8()
        case "magnitude": result = try magnitude()
        case "structured": result = try structured()
        case "distill": result = try distill()
        default: result = try trainStudent()
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    private var trainer: CompressionTrainer { trainer(for: base) }

    private func trainer(for recipe: ArchitectureRecipe) -> CompressionTrainer {
        CompressionTrainer(data: train, limit: Int(task.trainLimit), batchSize: recipe.batchSize, seed: task.seed)
    }

    private func model(_ recipe: ArchitectureRecipe) -> Sequential {
        recipe.architecture.make(imageShape: train.imageShape, classes: train.classes, seed: task.seed).model
    }

    private func score(_ model: Sequential, _ storage: CompressedModelScore.Storage) throws -> Orrery_V1_Workloads_CompressResult {
        try CompressedModelScore.measure(model, storage: storage, test: test, latencyRuns: Int(task.latencyRuns))
    }

    private func trainBase() throws -> Orrery_V1_Workloads_CompressResult {
        let model = model(base)
        try trainer.train(
            model, optimizer: base.makeOptimizer(model.parameters), learningRate: base.learningRate, epochs: Int(task.epochs), context: context,
            curve: "base")
        var result = try score(model, .float32)
        result.weights = try Safetensors.encode(model.namedParameters())
        return result
    }

    /// The trained base model, from the weights in the task.
    private func loadBase() throws -> (model: Sequential, accuracy: Double) {
        let model = model(base)
        do {
            try Safetensors.load(task.baseWeights, source: "the task's base weights", into: model)
        } catch {
            throw TaskError("compress task: \(error)", retryable: false)
        }
        return (model, try ClassifierEvaluation.evaluate(model, on: test).accuracy)
    }

    private func int8() throws -> Orrery_V1_Workloads_CompressResult {
        let (model, accuracy) = try loadBase()
        try model.quantizeToInt8()
        var result = try score(model, .int8)
        result.baseAccuracy = accuracy
        return result
    }

    /// The fine-tuning run after each pruning round: epochs numbered on from the base's, a
    /// fresh optimizer at the fine-tuning rate.
    private func finetune(_ model: Sequential, round: Int, afterStep: () -> Void = {}) throws {
        guard task.finetuneEpochs > 0 else { return }
        let rate = task.finetuneLearningRate > 0 ? task.finetuneLearningRate : base.learningRate
        try trainer.train(
            model, optimizer: base.makeOptimizer(model.parameters), learningRate: rate, epochs: Int(task.finetuneEpochs),
            firstEpoch: 1000 * (round + 1), context: context, curve: "finetune", afterStep: afterStep)
        context.reportProgress(Float(round + 1) / Float(task.rounds), "round \(round + 1)/\(task.rounds) fine-tuned")
    }

    /// Magnitude pruning raised to `amount` over the rounds on a cubic schedule (Zhu & Gupta
    /// 2017: most of it early, while the network can still recover), masks re-applied after
    /// every fine-tuning step.
    private func magnitude() throws -> Orrery_V1_Workloads_CompressResult {
        let (model, accuracy) = try loadBase()
        var pruning: MagnitudePruning?
        for round in 0..<Int(task.rounds) {
            let progress = Double(round + 1) / Double(task.rounds)
            let sparsity = task.amount * (1 - pow(1 - progress, 3))
            let masks = try MagnitudePruning(model, sparsity: sparsity, global: task.global)
            masks.apply()
            pruning = masks
            try finetune(model, round: round) { masks.apply() }
        }
        var result = try score(model, .sparse)
        result.baseAccuracy = accuracy
        result.sparsity = pruning?.sparsity ?? 0
        return result
    }

    /// Hidden neurons and convolution channels removed in equal steps (the kept fraction
    /// per round is amount^(1/rounds)), fine-tuning the smaller model after each.
    private func structured() throws -> Orrery_V1_Workloads_CompressResult {
        var (model, accuracy) = try loadBase()
        let perRound = pow(task.amount, 1 / Double(task.rounds))
        for round in 0..<Int(task.rounds) {
            model = try StructuredPruning.removing(model, keeping: StructuredPruning.kept(model, fraction: perRound))
            try finetune(model, round: round)
        }
        var result = try score(model, .float32)
        result.baseAccuracy = accuracy
        return result
    }

    private func trainStudent() throws -> Orrery_V1_Workloads_CompressResult {
        let recipe = student!
        let model = model(recipe)
        try trainer(for: recipe).train(
            model, optimizer: recipe.makeOptimizer(model.parameters), learningRate: recipe.learningRate, epochs: Int(task.epochs), context: context,
            curve: "student")
        return try score(model, .float32)
    }

    /// The student trained on the labels and the base model's softened outputs, which are
    /// computed once for every training image the run uses.
    private func distill() throws -> Orrery_V1_Workloads_CompressResult {
        let (teacher, accuracy) = try loadBase()
        let recipe = student!
        let trainer = trainer(for: recipe)
        let classes = train.classes
        var teacherLogits = [Float](repeating: 0, count: trainer.examples * classes)
        try withNoGrad { () throws in
            for start in stride(from: 0, to: trainer.examples, by: 1000) {
                let indices = Array(start..<Swift.min(trainer.examples, start + 1000))
                let logits = try teacher(train.batch(indices).images).scalars
                for (offset, value) in logits.enumerated() { teacherLogits[start * classes + offset] = value }
            }
        }
        let model = model(recipe)
        let (temperature, alpha) = (Float(task.temperature), Float(task.alpha))
        try trainer.train(
            model, optimizer: recipe.makeOptimizer(model.parameters), learningRate: recipe.learningRate, epochs: Int(task.epochs), context: context,
            curve: "distilled"
        ) { logits, labels, indices in
            let rows = indices.flatMap { teacherLogits[($0 * classes)..<(($0 + 1) * classes)] }
            let teacher = try Tensor(rows, shape: [indices.count, classes])
            return try KnowledgeDistillation.loss(student: logits, teacher: teacher, targets: labels, temperature: temperature, alpha: alpha)
        }
        var result = try score(model, .float32)
        result.baseAccuracy = accuracy
        return result
    }
}
