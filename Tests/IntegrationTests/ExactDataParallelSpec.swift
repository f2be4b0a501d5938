import Foundation
import Wire

/// A data-parallel Fashion-MNIST job whose result does not depend on how many workers ran it
/// (`exact_shards`), with checkpoints every 20 steps: runs that lose members, or run over
/// different links, can be compared with an undisturbed run bit for bit.
enum ExactDataParallelSpec {
    static func yaml(name: String, epochs: Int, examples: Int, seed: Int) -> String {
        """
        name: \(name)
        workload: train
        max_attempts: 4
        train:
          dataset: fashion-mnist
          hidden: [128]
          batch_size: 64
          epochs: \(epochs)
          train_limit: \(examples)
          seed: \(seed)
          workers: {min: 2, max: 3}
          checkpoint_every: 20
          exact_shards: 12
        """
    }

    /// The numbers of a finished job's report.
    static func metrics(_ job: Orrery_V1_JobInfo) throws -> [String: Double] {
        try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as? [String: Double] ?? [:]
    }
}
