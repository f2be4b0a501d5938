import Collectives
import Datasets
import NN
import Tensor
import Wire

/// Meta-training throughput on synthetic episodes (random images, the benchmark's shapes),
/// for `orrery bench meta-learn` beside learn2learn: the workload's own meta-step (episodes
/// drawn by index, meta-gradients summed in fixed point, one Adam step per meta-batch),
/// without data loading or a cluster.
public enum MetaLearnBenchmark {
    public struct Shape: Sendable {
        public var ways = 5, shots = 5, queries = 15, innerSteps = 5, metaBatch = 16, side = 14
        public var hidden = [256, 128, 64]
        public init() {}
    }

    /// Episodes per second over `metaSteps` meta-steps of `algorithm`.
    public static func episodesPerSecond(_ algorithm: String, shape: Shape, metaSteps: Int) throws -> Double {
        var task = Orrery_V1_Workloads_MetaLearnTask()
        task.algorithm = algorithm
        (task.ways, task.shots, task.queries) = (UInt32(shape.ways), UInt32(shape.shots), UInt32(shape.queries))
        (task.innerSteps, task.innerLr, task.outerLr) = (UInt32(shape.innerSteps), 0.4, 0.001)
        (task.metaBatch, task.metaSteps, task.seed) = (UInt32(shape.metaBatch), UInt32(metaSteps), 1)
        task.hidden = shape.hidden.map(UInt32.init)
        var generator = SplitMix64(seed: 5)
        var pool = ClassPool(features: shape.side * shape.side)
        for label in 0..<(4 * shape.ways) {
            pool.add(name: "\(label)", source: "\(label)", values: Tensor.uniform([40 * pool.features], using: &generator).scalars)
        }
        let sampler = try EpisodeSampler(pool: pool, classes: Array(pool.classes.indices), ways: shape.ways, shots: shape.shots, queries: shape.queries)
        let trainer = MetaTrainer(task: task, algorithm: try MetaLearnExecutor.algorithm(task, features: pool.features))
        let context = TaskContext(taskID: "bench/meta-learn", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        return try trainer.train(sampler, communicator: nil, context: context).episodesPerSecond
    }
}
