import Datasets
import NN
import Tensor

/// MAML (Finn et al. 2017) with its second-order term: the inner steps θ′ = θ − α∇L(θ)
/// are taken on gradients recorded on the tape (`createGraph`), so the query loss at θ′
/// differentiates back through every step to θ, Hessian-vector products included.
struct MAML: MetaAlgorithm {
    let network: any FunctionalNetwork
    let inner: InnerLoop

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        var fast = parameters
        for _ in 0..<inner.steps {
            let loss = try Tensor.crossEntropy(logits: try network(episode.support, fast), targets: episode.supportLabels)
            let gradients = try loss.gradients(withRespectTo: fast, createGraph: true)
            fast = try zip(fast, gradients).map { (weight, gradient) throws in try weight - gradient * inner.learningRate }
        }
        let logits = try network(episode.query, fast)
        let loss = try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels)
        return MetaGradient(
            gradients: try loss.gradients(withRespectTo: parameters), queryLoss: loss.item,
            queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
    }

    /// Adapting to a test episode needs no meta-gradient: the same steps, first order.
    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        try FirstOrderMAML(network: network, inner: inner).adaptedAccuracy(episode, parameters: parameters)
    }
}
