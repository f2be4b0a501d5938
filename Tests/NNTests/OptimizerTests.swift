import NN
import OrreryTestSupport
import Tensor
import Testing

@Suite("Optimizers and schedules")
struct OptimizerTests {
    /// A parameter holding `values` whose gradient is `gradient` (from loss = Σ gradient ⊙ w).
    func parameter(_ values: [Float], gradient: [Float]) throws -> Tensor {
        let w = try Tensor(values, shape: [values.count]).requiringGrad()
        try (w * Tensor(gradient, shape: [gradient.count])).sum().backward()
        return w
    }

    @Test("SGD with momentum and weight decay follows PyTorch's update rule over two steps")
    func sgdMomentum() throws {
        let w = try parameter([1, -2], gradient: [0.5, 0.25])
        let sgd = SGD(parameters: [w], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        sgd.step()
        // d = g + λw; v = d; w -= lr·v
        let d1 = [0.5 + 0.01 * 1, 0.25 + 0.01 * -2] as [Float]
        let w1 = [1 - 0.1 * d1[0], -2 - 0.1 * d1[1]]
        #expect(allClose(w.scalars, w1, tolerance: 1e-6))
        sgd.step()
        let d2 = [0.5 + 0.01 * w1[0], 0.25 + 0.01 * w1[1]]
        let v2 = [0.9 * d1[0] + d2[0], 0.9 * d1[1] + d2[1]]
        #expect(allClose(w.scalars, [w1[0] - 0.1 * v2[0], w1[1] - 0.1 * v2[1]], tolerance: 1e-6))
    }

    @Test("Nesterov SGD steps along g + μv")
    func nesterov() throws {
        let w = try parameter([0], gradient: [1])
        let sgd = SGD(parameters: [w], learningRate: 1, momentum: 0.5, nesterov: true)
        sgd.step()
        #expect(allClose(w.scalars, [-1.5]))  // v = 1; step g + μv = 1.5
    }

    @Test("Adam's first step moves each weight by the learning rate against its gradient's sign")
    func adamFirstStep() throws {
        let w = try parameter([1, 1, 1], gradient: [3, -0.001, 40])
        Adam(parameters: [w], learningRate: 0.01).step()
        #expect(allClose(w.scalars, [0.99, 1.01, 0.99], tolerance: 1e-4))
    }

    @Test("AdamW decays the weights themselves; Adam's L2 decay goes through the moments", arguments: [true, false])
    func weightDecay(decoupled: Bool) throws {
        let w = try parameter([2, 2, 2, 2, 2, 2, 2, 2, 2], gradient: Array(repeating: 0, count: 9))
        let adam = Adam(parameters: [w], learningRate: 0.1, weightDecay: 0.5, decoupledWeightDecay: decoupled)
        adam.step()
        // AdamW: w·(1 − lr·λ) = 1.9, and a zero gradient gives no Adam step.
        // Adam+L2: the gradient is λw = 1, so the first step is −lr: 1.9 as well, by another road.
        #expect(allClose(w.scalars, Array(repeating: 1.9, count: 9), tolerance: 1e-4))
        adam.step()
        let expected: Float = decoupled ? 1.9 * 0.95 : 1.8
        #expect(abs(w.scalars[8] - expected) < 2e-3)
    }

    @Test("gradient clipping scales all gradients to the maximum norm together")
    func clipping() throws {
        let a = try parameter([0, 0], gradient: [3, 0])
        let b = try parameter([0], gradient: [4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(allClose(a.grad!.scalars + b.grad!.scalars, [0.6, 0, 0.8], tolerance: 1e-6))
    }

    @Test("schedules: step, cosine and warm-up")
    func schedules() {
        #expect(LearningRateSchedule.step(base: 1, every: 10, factor: 0.5).rate(at: 25) == 0.25)
        let cosine = LearningRateSchedule.cosine(base: 1, steps: 100, minimum: 0)
        #expect(cosine.rate(at: 0) == 1)
        #expect(abs(cosine.rate(at: 50) - 0.5) < 1e-6)
        #expect(cosine.rate(at: 100) < 1e-6)
        let warm = LearningRateSchedule.warmup(steps: 4, then: .constant(2))
        #expect([0, 1, 3, 4, 100].map(warm.rate) == [0.5, 1, 2, 2, 2])
    }
}
