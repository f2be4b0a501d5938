import Datasets
import NN
import Tensor

/// Prototypical networks (Snell et al. 2017): a class is the mean embedding of its support
/// examples, and a query is scored by its negative squared Euclidean distance to each
/// prototype. No inner loop: the embedding is trained directly on the query loss.
struct PrototypicalNetwork: MetaAlgorithm {
    let network: FunctionalMLP

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        let logits = try self.logits(episode, parameters)
        let loss = try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels)
        try loss.backward()
        return MetaGradient(
            gradients: takeGradients(parameters), queryLoss: loss.item,
            queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
    }

    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        try withNoGrad { () throws -> Float in try EpisodeScore.accuracy(try logits(episode, parameters), episode.queryLabels) }
    }

    /// −‖q − p‖² for every query q and prototype p, as 2 q·p − ‖q‖² − ‖p‖² (matrix products,
    /// no [queries, ways, features] intermediate).
    func logits(_ episode: Episode, _ parameters: [Tensor]) throws -> Tensor {
        // One pass over support and query together: one larger product per layer
        // instead of two small ones.
        let rows = episode.ways * episode.shots
        let both = try network(try Tensor.concatenate([episode.support, episode.query], axis: 0), parameters)
        let support = try both.sliced(axis: 0, 0..<rows)
        let query = try both.sliced(axis: 0, rows..<both.shape[0])
        let prototypes = try Self.averaging(ways: episode.ways, shots: episode.shots).matmul(support)
        let cross = try query.matmul(prototypes, transposeB: true)
        let queryNorms = try query.squared().sum(axis: 1, keepDimensions: true)
        let prototypeNorms = try prototypes.squared().sum(axis: 1).reshaped(to: [1, episode.ways])
        return try (cross * 2 - queryNorms) - prototypeNorms
    }

    /// The [ways, ways × shots] matrix that averages a class-major support set's rows by class.
    static func averaging(ways: Int, shots: Int) -> Tensor {
        var values = [Float](repeating: 0, count: ways * ways * shots)
        for way in 0..<ways {
            for shot in 0..<shots { values[way * ways * shots + way * shots + shot] = 1 / Float(shots) }
        }
        return Tensor(shape: [ways, ways * shots], storage: Storage(values))
    }
}
