import Collectives
import Datasets
import Foundation
import Search
import NN
import Tensor
import Wire

/// Meta-test evaluation: the same episodes for every method, split across the gang and
/// gathered on every member, scored as mean accuracy with a 95% interval.
struct FewShotEvaluation {
    let task: Orrery_V1_Workloads_MetaLearnTask
    let benchmark: FewShotBenchmark
    let communicator: Communicator?

    /// One method's accuracy on each meta-test episode of one shot count.
    struct Row: Codable, Equatable {
        let method: String
        let shots: Int
        let accuracies: [Float]
        /// The fine-tuning learning rate, where the method fine-tunes.
        var rate: Float? = nil
    }

    /// `score` on every meta-test episode of `shots` shots.
    func row(_ method: String, shots: Int, rate: Float? = nil, _ score: (Episode) throws -> Float) throws -> Row {
        Row(method: method, shots: shots, accuracies: try scores(.metaTest, shots: shots, episodes: Int(task.evalEpisodes), score), rate: rate)
    }

    /// The best of `rates` for a baseline's fine-tuning, by mean accuracy on
    /// `tuningEpisodes` meta-validation episodes (never meta-test ones); ties go to the
    /// smaller rate.
    func tunedRate(_ rates: [Float], shots: Int, _ score: (Episode, Float) throws -> Float) throws -> Float {
        var best: (rate: Float, accuracy: Double)?
        for rate in rates {
            let mean = try meanScore(.metaValidation, shots: shots, episodes: Self.tuningEpisodes) { try score($0, rate) }
            if best == nil || mean > best!.accuracy { best = (rate, mean) }
        }
        return best!.rate
    }

    /// `score`'s mean over `episodes` episodes of `split` (the same on every member).
    func meanScore(_ split: FewShotSplit, shots: Int, episodes: Int, _ score: (Episode) throws -> Float) throws -> Double {
        let accuracies = try scores(split, shots: shots, episodes: episodes, score)
        return accuracies.reduce(0.0) { $0 + Double($1) } / Double(accuracies.count)
    }

    /// Meta-validation episodes a baseline's learning rate is chosen on.
    static let tuningEpisodes = 100
    /// The learning rates baselines choose from.
    static let tuningRates: [Float] = [0.003, 0.01, 0.03, 0.1, 0.3, 1]

    /// `score` on `episodes` episodes of `split`: this member scores its share, and the
    /// shares are summed into every member's copy (each slot has one term, so the sum is
    /// exact and every member chooses alike).
    func scores(_ split: FewShotSplit, shots: Int, episodes count: Int, _ score: (Episode) throws -> Float) throws -> [Float] {
        let sampler = try benchmark.sampler(split, ways: Int(task.ways), shots: shots, queries: Int(task.queries))
        let (rank, world) = (communicator?.rank ?? 0, communicator?.worldSize ?? 1)
        var accuracies = [Float](repeating: 0, count: count)
        for index in Segmentation(count: count, parts: world).segment(rank) {
            accuracies[index] = try score(sampler.episode(seed: Self.seed(task, shots: shots), index: index))
        }
        if let communicator, world > 1 { try communicator.allReduce(&accuracies, .sum) }
        return accuracies
    }

    /// Mean accuracy and its 95% interval.
    static func interval(_ row: Row) -> ConfidenceInterval {
        ConfidenceInterval.mean(row.accuracies.map(Double.init))
    }

    static func seed(_ task: Orrery_V1_Workloads_MetaLearnTask, shots: Int) -> UInt64 {
        task.seed &+ 0x7E57_0000_0000 &+ UInt64(shots)
    }
}
