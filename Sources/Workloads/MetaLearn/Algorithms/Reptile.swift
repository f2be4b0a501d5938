import Datasets
import NN
import Tensor

/// Reptile (Nichol et al. 2018): adapt on the support set and move the meta-parameters
/// toward the adapted weights; the meta-gradient is θ − θ′, which the outer optimizer
/// steps along as it would along a gradient.
struct Reptile: MetaAlgorithm {
    let network: any FunctionalNetwork
    let inner: InnerLoop

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        let fast = try FirstOrderMAML(network: network, inner: inner).adapt(episode, parameters)
        return try withNoGrad { () throws -> MetaGradient in
            let logits = try network(episode.query, fast)
            return MetaGradient(
                gradients: try zip(parameters, fast).map { (meta, adapted) throws in try meta.detached() - adapted.detached() },
                queryLoss: try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels).item,
                queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
        }
    }

    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        try FirstOrderMAML(network: network, inner: inner).adaptedAccuracy(episode, parameters: parameters)
    }
}
