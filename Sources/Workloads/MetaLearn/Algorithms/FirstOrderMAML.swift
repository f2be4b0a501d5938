import Datasets
import NN
import Tensor

/// First-order MAML (Finn et al. 2017, §5.2): adapt on the support set, and use the query
/// loss's gradient at the adapted weights as the meta-gradient, dropping the second-order
/// term that differentiating through the inner steps would add.
struct FirstOrderMAML: MetaAlgorithm {
    let network: any FunctionalNetwork
    let inner: InnerLoop

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        let fast = try adapt(episode, parameters)
        let logits = try network(episode.query, fast)
        let loss = try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels)
        try loss.backward()
        return MetaGradient(
            gradients: takeGradients(fast), queryLoss: loss.item, queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
    }

    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        let fast = try adapt(episode, parameters)
        return try withNoGrad { () throws -> Float in try EpisodeScore.accuracy(try network(episode.query, fast), episode.queryLabels) }
    }

    func adapt(_ episode: Episode, _ parameters: [Tensor]) throws -> [Tensor] {
        try inner.adapt(parameters) { fast in
            try Tensor.crossEntropy(logits: try network(episode.support, fast), targets: episode.supportLabels)
        }
    }
}
