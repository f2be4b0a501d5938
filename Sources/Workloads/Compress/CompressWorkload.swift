/// Compression judged by measured latency: a base classifier trained per seed, then
/// quantized to int8, pruned by magnitude, pruned by removing neurons and convolution
/// channels (a smaller model that runs faster), and distilled into a smaller student
/// (beside the same student trained alone), each scored on test accuracy, stored bytes and
/// batch-1 latency, reported on one front.
///
/// ```yaml
/// compress:
///   dataset: fashion-mnist
///   base: {family: mlp, depth: 2, width: 256}   # ArchitectureRecipe settings (training ones too)
///   epochs: 5                 # base training
///   seeds: [1, 2, 3]
///   train_limit: 0            # training images per epoch (0: all)
///   latency_runs: 200         # batch-1 forward passes timed (median)
///   methods:
///     int8: {}
///     magnitude: {sparsity: 0.8, rounds: 3, finetune_epochs: 1, global: true}
///     structured: {keep: 0.5, rounds: 2, finetune_epochs: 1}
///     distill: {student: {family: mlp, depth: 1, width: 64}, temperature: 4, alpha: 0.9, epochs: 5}
/// ```
public struct CompressWorkload: Workload {
    public init() {}

    public var kind: String { "compress" }
    public var summary: String { "compress a trained classifier (int8, magnitude pruning, neuron and channel removal, distillation) and report accuracy, size and latency" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        CompressPlanner(spec: try CompressSpec.read(section))
    }

    public func makeExecutor() throws -> any Executor { CompressExecutor() }
}
