import Datasets
import NN
import Tensor

/// Prototypical networks (Snell et al. 2017): a class is the mean embedding of its support
/// examples, and a query is scored by its negative squared Euclidean distance to each
/// prototype. No inner loop: the embedding is trained directly on the query loss.
///
/// With `descriptions` (text benchmarks: an embedding of each pool class's description),
/// a class's description counts as one more support example of it, through the same
/// embedding: the prototype is (Σ support + description) / (shots + 1), a semantic prior
/// that a single shot refines (after Xing et al.'s AM3, with a fixed mixing weight).
struct PrototypicalNetwork: MetaAlgorithm {
    let network: any FunctionalNetwork
    var descriptions: [[Float]]? = nil

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
        let rows = episode.ways * episode.shots, queries = episode.query.shape[0]
        var inputs = [episode.support, episode.query]
        if let descriptions {
            inputs.append(Tensor(shape: [episode.ways, episode.query.shape[1]], storage: Storage(episode.classes.flatMap { descriptions[$0] })))
        }
        let all = try network(try Tensor.concatenate(inputs, axis: 0), parameters)
        let support = try all.sliced(axis: 0, 0..<rows)
        let query = try all.sliced(axis: 0, rows..<(rows + queries))
        var prototypes = try Self.averaging(ways: episode.ways, shots: episode.shots).matmul(support)
        if descriptions != nil {
            let described = try all.sliced(axis: 0, (rows + queries)..<all.shape[0])
            let shots = Float(episode.shots)
            prototypes = try prototypes * (shots / (shots + 1)) + described * (1 / (shots + 1))
        }
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
