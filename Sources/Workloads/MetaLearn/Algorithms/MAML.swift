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
        let rates = parameters.map { _ in Tensor(scalar: inner.learningRate) }
        return try Self.throughInnerSteps(
            network, steps: inner.steps, episode: episode, weights: parameters, rates: rates, withRespectTo: parameters)
    }

    /// Adapting to a test episode needs no meta-gradient: the same steps, first order.
    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        try FirstOrderMAML(network: network, inner: inner).adaptedAccuracy(episode, parameters: parameters)
    }

    /// `steps` SGD steps on the support set, θ′ = θ − α ⊙ ∇L(θ) with a rate per weight tensor,
    /// on recorded gradients; then the query loss at θ′ and its gradient with respect to
    /// `targets` (the weights, and for Meta-SGD the rates too), through every step.
    static func throughInnerSteps(
        _ network: any FunctionalNetwork, steps: Int, episode: Episode, weights: [Tensor], rates: [Tensor], withRespectTo targets: [Tensor]
    ) throws -> MetaGradient {
        var fast = weights
        for _ in 0..<steps {
            let loss = try Tensor.crossEntropy(logits: try network(episode.support, fast), targets: episode.supportLabels)
            let gradients = try loss.gradients(withRespectTo: fast, createGraph: true)
            fast = try (0..<fast.count).map { (i) throws in try fast[i] - gradients[i] * rates[i] }
        }
        let logits = try network(episode.query, fast)
        let loss = try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels)
        return MetaGradient(
            gradients: try loss.gradients(withRespectTo: targets), queryLoss: loss.item,
            queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
    }
}
