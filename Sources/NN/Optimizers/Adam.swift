import CKernels
import Foundation
import Tensor

/// Adam (Kingma & Ba 2015) with bias correction. `decoupledWeightDecay` makes it AdamW
/// (Loshchilov & Hutter 2019): decay is applied to the weights directly instead of being
/// added to the gradient.
public final class Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public let decoupledWeightDecay: Bool
    private let parameters: [Tensor]
    private var firstMoment: [[Float]]
    private var secondMoment: [[Float]]
    private var steps = 0

    public init(
        parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        firstMoment = parameters.map { [Float](repeating: 0, count: $0.count) }
        secondMoment = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    /// AdamW with PyTorch's default decay of 0.01.
    public static func adamW(parameters: [Tensor], learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public var state: [(name: String, values: [Float])] {
        [("adam.steps", [Float(steps)])]
            + firstMoment.enumerated().map { ("adam.m.\($0.offset)", $0.element) }
            + secondMoment.enumerated().map { ("adam.v.\($0.offset)", $0.element) }
    }

    public func loadState(_ state: [String: [Float]]) throws(TensorError) {
        let saved = try entry(state, "adam.steps", count: 1)
        for index in parameters.indices {
            firstMoment[index] = try entry(state, "adam.m.\(index)", count: parameters[index].count)
            secondMoment[index] = try entry(state, "adam.v.\(index)", count: parameters[index].count)
        }
        steps = Int(saved[0])
    }

    public func step() {
        steps += 1
        let correction1 = 1 - Float(pow(Double(beta1), Double(steps)))
        let correction2 = 1 - Float(pow(Double(beta2), Double(steps)))
        let (rate, b1, b2, eps, decay, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            parameter.storage.withUnsafeMutableBufferPointer { w in
                grad.storage.withUnsafeBufferPointer { g in
                    firstMoment[index].withUnsafeMutableBufferPointer { m in
                        secondMoment[index].withUnsafeMutableBufferPointer { v in
                            Self.update(
                                w: w.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, count: w.count,
                                rate: rate, beta1: b1, beta2: b2, epsilon: eps, decay: decay, decoupled: decoupled,
                                correction1: correction1, correction2: correction2)
                        }
                    }
                }
            }
        }
    }

    /// The Adam update over one parameter, in C: Swift's SIMD square root is scalar.
    @inline(__always)
    static func update(
        w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        count: Int, rate: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float, decoupled: Bool,
        correction1: Float, correction2: Float
    ) {
        orrery_adam_update(
            w, g, m, v, count, 1 - (decoupled ? rate * decay : 0), decoupled ? 0 : decay, beta1, beta2,
            rate / correction1, 1 / correction2, epsilon)
    }
}
