import Wire

/// Neural architecture search over image classifiers: a space declared in the spec
/// (architecture and training settings, categorical, integer and log ranges, conditional
/// parameters), searched by random search, regularized evolution, ASHA or Hyperband; trials
/// checkpoint every epoch and promoted trials continue from their checkpoints; the report
/// has the leaderboard, the Pareto front of dev accuracy, size and measured latency, and
/// the winner retrained on all training data, scored on test, saved, and written out as a
/// `train` spec.
///
/// ```yaml
/// nas:
///   dataset: fashion-mnist
///   strategy: asha            # random | evolution | asha | hyperband
///   budget: 60                # epochs over all trials
///   epochs: 9                 # a trial's largest budget (R), the schedule's length
///   min_epochs: 1             # asha, hyperband: the first rung (r)
///   reduction: 3              # asha, hyperband: η
///   population: 10            # evolution
///   sample: 3                 # evolution: tournament size
///   parallel: 2               # trials in flight
///   dev: 5000                 # training images held out to score trials
///   train_limit: 10000        # training images per epoch during the search (0: the rest)
///   split_seed: 7
///   seed: 1
///   schedule: cosine          # cosine | constant, over `epochs`
///   latency_runs: 30          # batch-1 forward passes timed per trial
///   promotion_state: kept     # asha, hyperband: kept (on its worker, a copy committed) | returned
///   reference: {accuracy: 0.8, parameters: 1000000, latency_ms: 10}   # hypervolume's box
///   final: {top: 3, epochs: 15, save: nas-winner.safetensors}
///   space:
///     family: cnn                             # fixed
///     blocks: {int: [1, 3]}
///     channels_1: {choice: [16, 32, 64]}
///     channels_2: {choice: [32, 64, 128], when: blocks >= 2}
///     kernel_1: {choice: [3, 5]}
///     residual: {choice: [true, false]}
///     head: {choice: [0, 128, 256]}
///     dropout: {choice: [0, 0.25, 0.5], when: head > 0}
///     learning_rate: {log: [0.0003, 0.01]}
///     batch_size: {choice: [32, 64, 128]}
/// ```
/// The settings' names and values are those of `ArchitectureRecipe`.
public struct NASWorkload: Workload {
    public init() {}

    public var kind: String { "nas" }
    public var summary: String { "search image-classifier architectures (random, evolution, ASHA, Hyperband) with a Pareto front of accuracy, size and latency" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        NASPlanner(plan: try NASSpec.read(section))
    }

    public func makeExecutor() throws -> any Executor { NASExecutor() }
}
