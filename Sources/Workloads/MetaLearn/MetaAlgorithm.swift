import Datasets
import NN
import Tensor

/// One meta-learning algorithm: what it learns from an episode, and how it adapts to one.
///
/// The meta-parameters are a flat list of leaves (`FunctionalNetwork`'s layout). The trainer
/// sums `metaGradient` over a meta-batch (split across a gang), averages, and takes an Adam
/// step; the evaluator calls `adaptedAccuracy` on held-out episodes.
protocol MetaAlgorithm {
    var network: any FunctionalNetwork { get }

    /// The meta-gradient one episode contributes at `parameters` (one tensor per
    /// parameter), with the episode's query loss and accuracy after adaptation.
    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient

    /// Query accuracy after adapting `parameters` to the episode's support set.
    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float

    /// The meta-parameters to start from: the network's, and any the algorithm learns
    /// besides (Meta-SGD's inner learning rates), with their names.
    func initialParameters(using generator: inout SplitMix64) -> [Tensor]
    var parameterNames: [String] { get }
}

/// What one episode contributes to a meta-step.
struct MetaGradient {
    let gradients: [Tensor]
    let queryLoss: Float
    let queryAccuracy: Float
}

extension MetaAlgorithm {
    func initialParameters(using generator: inout SplitMix64) -> [Tensor] { network.initialParameters(using: &generator) }
    var parameterNames: [String] { network.parameterNames }

    /// The gradients `loss` leaves in `parameters`, read out and cleared, zeros where a
    /// parameter got none.
    func takeGradients(_ parameters: [Tensor]) -> [Tensor] {
        parameters.map { parameter in
            defer { parameter.zeroGrad() }
            return parameter.grad ?? .zeros(parameter.shape)
        }
    }
}
