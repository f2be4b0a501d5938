import Datasets
import NN
import Tensor

/// Meta-SGD (Li et al. 2017), per layer: MAML whose inner learning rate is learned, one
/// rate per parameter tensor, meta-trained with the weights. It falls out of second-order
/// MAML: the rates are more meta-parameters, and the query loss differentiates through
/// θ′ = θ − α ⊙ ∇L(θ) to α as well as to θ.
struct MetaSGD: MetaAlgorithm {
    let network: any FunctionalNetwork
    let inner: InnerLoop

    /// The network's parameters, then one rate per network parameter (initialized to the
    /// spec's `inner_lr`).
    func initialParameters(using generator: inout SplitMix64) -> [Tensor] {
        let weights = network.initialParameters(using: &generator)
        return weights + weights.map { _ in Tensor(scalar: inner.learningRate).requiringGrad() }
    }

    var parameterNames: [String] { network.parameterNames + network.parameterNames.map { "inner_lr.\($0)" } }

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        let (weights, rates) = split(parameters)
        return try MAML.throughInnerSteps(
            network, steps: inner.steps, episode: episode, weights: weights, rates: rates, withRespectTo: parameters)
    }

    /// The learned rates' steps, first order (no meta-gradient is needed at test time).
    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        let (weights, rates) = split(parameters)
        var fast = weights.map { $0.detached().requiringGrad() }
        for _ in 0..<inner.steps {
            let loss = try Tensor.crossEntropy(logits: try network(episode.support, fast), targets: episode.supportLabels)
            let gradients = try loss.gradients(withRespectTo: fast)
            fast = try withNoGrad { () throws -> [Tensor] in
                try (0..<fast.count).map { (i) throws in try (fast[i] - gradients[i] * rates[i].detached()).requiringGrad() }
            }
        }
        return try withNoGrad { () throws -> Float in try EpisodeScore.accuracy(try network(episode.query, fast), episode.queryLabels) }
    }

    private func split(_ parameters: [Tensor]) -> (weights: [Tensor], rates: [Tensor]) {
        let count = parameters.count / 2
        return (Array(parameters[..<count]), Array(parameters[count...]))
    }
}
