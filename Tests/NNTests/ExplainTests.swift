import NN
import OrreryTestSupport
import Tensor
import Testing

@Suite("Explanations: integrated gradients and gradient × input")
struct ExplainTests {
    @Test("On a linear score both methods give exactly w ⊙ (x − x′); completeness holds exactly")
    func linear() throws {
        var generator = SplitMix64(seed: 2)
        let w = Tensor.uniform([1, 10], low: -1, high: 1, using: &generator)
        let x = Tensor.uniform([1, 10], low: -1, high: 1, using: &generator)
        let score: (Tensor) throws(TensorError) -> Tensor = { (batch) throws(TensorError) in try batch.matmul(w, transposeB: true).reshaped(to: [batch.shape[0]]) }
        let integrated = try IntegratedGradients.attribute(x, baseline: Tensor.zeros([1, 10]), steps: 4, score: score)
        let exact = try (w * x).scalars
        #expect(allClose(integrated.values.scalars, exact, tolerance: 1e-6))
        #expect(try #require(integrated.completenessGap) < 1e-5)
        #expect(allClose(try IntegratedGradients.gradientTimesInput(x, score: score).values.scalars, exact, tolerance: 1e-6))
    }

    @Test("Pixels of an engine MLP: attributions add up to f(x) − f(baseline) within 1% at 64 steps (smooth), or after refining (ReLU)", arguments: [Activation.Kind.relu, .tanh, .gelu])
    func completeness(activation: Activation.Kind) throws {
        var generator = SplitMix64(seed: 7)
        let model = MLP.make([64, 32, 32, 10], activation: activation, using: &generator)
        model.setFrozen(true)
        let image = Tensor.uniform([1, 64], low: 0, high: 1, using: &generator)
        let score: (Tensor) throws(TensorError) -> Tensor = { (batch) throws(TensorError) in
            try model(batch).logSoftmax().sliced(axis: 1, 3..<4).reshaped(to: [batch.shape[0]])
        }
        let attribution = try IntegratedGradients.attribute(image, baseline: Tensor.zeros([1, 64]), steps: 64, tolerance: 0.01, score: score)
        let gap = try #require(attribution.completenessGap)
        #expect(gap < 0.01, "completeness gap \(gap) at \(attribution.steps) steps")
        if activation != .relu { #expect(attribution.steps == 64) }
        // Refining halves the intervals, reusing the points: the same as asking for that many at once.
        let direct64 = try IntegratedGradients.attribute(image, baseline: Tensor.zeros([1, 64]), steps: attribution.steps, score: score)
        #expect(allClose(direct64.values.scalars, attribution.values.scalars, tolerance: 1e-5))
        let direct = try withNoGrad { () throws(TensorError) in try model(image).logSoftmax().scalars[3] }
        #expect(abs(attribution.score - direct) < 1e-5)
    }

    @Test("Wrong shapes and a score that ignores its input are refused")
    func refusals() throws {
        #expect(throws: TensorError.self) {
            try IntegratedGradients.attribute(Tensor.zeros([2, 3]), baseline: Tensor.zeros([2, 3])) { (batch) throws(TensorError) in try batch.sum(axes: [1]) }
        }
        #expect(throws: TensorError.self) {
            try IntegratedGradients.attribute(Tensor.zeros([1, 3]), baseline: Tensor.zeros([1, 3])) { _ in Tensor.zeros([1]) }
        }
    }
}
