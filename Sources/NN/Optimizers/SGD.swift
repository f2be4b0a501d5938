import Tensor

/// Stochastic gradient descent with optional momentum (PyTorch's formulation:
/// v ← μv + g, step along v, or along g + μv with Nesterov) and L2 weight decay added to
/// the gradient.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    private let parameters: [Tensor]
    private var velocity: [[Float]]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: momentum > 0 ? $0.count : 0) }
    }

    public var state: [(name: String, values: [Float])] {
        velocity.enumerated().map { ("sgd.velocity.\($0.offset)", $0.element) }
    }

    public func loadState(_ state: [String: [Float]]) throws(TensorError) {
        for index in velocity.indices {
            velocity[index] = try entry(state, "sgd.velocity.\(index)", count: velocity[index].count)
        }
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let (rate, mu, decay, nesterov) = (learningRate, momentum, weightDecay, nesterov)
            parameter.storage.withUnsafeMutableBufferPointer { w in
                grad.storage.withUnsafeBufferPointer { g in
                    velocity[index].withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            var d = g[i] + decay * w[i]
                            if mu > 0 {
                                v[i] = mu * v[i] + d
                                d = nesterov ? d + mu * v[i] : v[i]
                            }
                            w[i] -= rate * d
                        }
                    }
                }
            }
        }
    }
}
