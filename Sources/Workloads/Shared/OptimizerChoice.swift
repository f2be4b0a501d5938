import NN
import Tensor

/// The optimizers a job spec may name, made the same way for every workload that trains
/// (`train`, `nas`, `pipeline`).
enum OptimizerChoice {
    static let names = ["sgd", "adam", "adamw"]

    /// The optimizer `name` over `parameters`; nil for a name not in `names`. Momentum and
    /// Nesterov apply to SGD only.
    static func make(
        _ name: String, parameters: [Tensor], learningRate: Float, momentum: Float, nesterov: Bool = false, weightDecay: Float
    ) -> (any Optimizer)? {
        switch name {
        case "sgd": SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case "adamw": Adam.adamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case "adam": Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        default: nil
        }
    }
}
