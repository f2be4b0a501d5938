import Foundation
import OrreryTestSupport
import Tensor
import Testing

/// Gradients of gradients (`createGraph`) against finite differences of gradients, for
/// every operation the meta-learners use: Hessian-vector products, and MAML's meta-gradient
/// through an SGD step.
@Suite("Second-order gradients match finite differences")
struct SecondOrderGradientTests {
    static func random(_ shape: Shape, seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        GradientCheckTests.random(shape, seed: seed, low: low, high: high)
    }

    func expectHessianVectorProductsMatch(
        _ inputs: [Tensor], tolerance: Float = 3e-2, _ function: @escaping ([Tensor]) throws -> Tensor,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let mismatches = try GradientCheck.hessianVectorMismatches(inputs, tolerance: tolerance, function)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))", sourceLocation: sourceLocation)
    }

    @Test("add, subtract, multiply, divide, with broadcasting", arguments: GradientCheckTests.binaryShapes)
    func binary(shapes: (Shape, Shape)) throws {
        let a = Self.random(shapes.0, seed: 1), b = Self.random(shapes.1, seed: 2, low: 0.5, high: 2)
        // Products and quotients have cross terms; sums only pass second order through.
        try expectHessianVectorProductsMatch([a, b]) { try ($0[0] * $0[1]).squared() }
        try expectHessianVectorProductsMatch([a, b]) { try $0[0] * $0[1] }
        try expectHessianVectorProductsMatch([a, b]) { try $0[0] / $0[1] }
        try expectHessianVectorProductsMatch([a, b]) { try ($0[0] - $0[1]).squared() + $0[1] }
    }

    @Test("unary functions")
    func unary() throws {
        let x = Self.random([3, 5], seed: 3, low: -2, high: 2)
        let positive = Self.random([3, 5], seed: 4, low: 0.5, high: 3)
        try expectHessianVectorProductsMatch([x]) { $0[0].exp() }
        try expectHessianVectorProductsMatch([positive]) { $0[0].log() }
        try expectHessianVectorProductsMatch([positive]) { $0[0].sqrt() }
        try expectHessianVectorProductsMatch([x]) { $0[0].tanh() }
        try expectHessianVectorProductsMatch([x]) { $0[0].sigmoid() }
        try expectHessianVectorProductsMatch([x]) { $0[0].gelu(approximate: true) }
        try expectHessianVectorProductsMatch([x]) { $0[0].gelu(approximate: false) }
        try expectHessianVectorProductsMatch([x]) { $0[0].squared() }
        try expectHessianVectorProductsMatch([x]) { $0[0].silu() }
        try expectHessianVectorProductsMatch([positive]) { $0[0].pow(2.5) }
        try expectHessianVectorProductsMatch([x]) { (-$0[0]).squared() }
        // relu is piecewise linear: its second derivative is 0 away from the kink, but it
        // gates the curvature of what comes after it.
        let awayFromZero = try x + Tensor.full(0.05, [3, 5]) * x.detached().squared().sqrt() / x.detached()
        try expectHessianVectorProductsMatch([awayFromZero]) { $0[0].relu().squared() }
    }

    @Test("matrix products with every transpose, and the linear layer")
    func products() throws {
        let a = Self.random([3, 4], seed: 5), b = Self.random([4, 2], seed: 6)
        try expectHessianVectorProductsMatch([a, b]) { try $0[0].matmul($0[1]).squared() }
        try expectHessianVectorProductsMatch([a, b]) { try $0[0].matmul($0[1], transposeB: false).tanh() }
        let at = Self.random([4, 3], seed: 7), bt = Self.random([2, 4], seed: 8)
        try expectHessianVectorProductsMatch([at, bt]) { try $0[0].matmul($0[1], transposeA: true, transposeB: true).squared() }
        try expectHessianVectorProductsMatch([at, b]) { try $0[0].matmul($0[1], transposeA: true).squared() }
        let x = Self.random([5, 4], seed: 9), w = Self.random([3, 4], seed: 10), bias = Self.random([3], seed: 11)
        try expectHessianVectorProductsMatch([x, w, bias]) { try $0[0].linear(weight: $0[1], bias: $0[2]).tanh() }
    }

    @Test("softmax, log-softmax and cross-entropy")
    func softmaxAndLosses() throws {
        let logits = Self.random([4, 5], seed: 12, low: -2, high: 2)
        try expectHessianVectorProductsMatch([logits]) { try $0[0].softmax() }
        try expectHessianVectorProductsMatch([logits]) { try $0[0].logSoftmax() }
        try expectHessianVectorProductsMatch([logits]) { try Tensor.crossEntropy(logits: $0[0], targets: [0, 3, 1, 4]) }
    }

    @Test("sums, means, reshapes, permutes, slices and concatenations")
    func shapes() throws {
        let x = Self.random([2, 3, 4], seed: 13)
        try expectHessianVectorProductsMatch([x]) { try $0[0].squared().sum(axes: [1]) }
        try expectHessianVectorProductsMatch([x]) { try $0[0].tanh().mean(axes: [0, 2], keepDimensions: true).squared() }
        try expectHessianVectorProductsMatch([x]) { try $0[0].reshaped(to: [6, 4]).squared() }
        try expectHessianVectorProductsMatch([x]) { try $0[0].permuted([2, 0, 1]).tanh() }
        try expectHessianVectorProductsMatch([x]) { try $0[0].sliced(axis: 2, 1..<3).squared() }
        let y = Self.random([2, 2, 4], seed: 14)
        try expectHessianVectorProductsMatch([x, y]) { try (Tensor.concatenate([$0[0], $0[1]], axis: 1) * Tensor.concatenate([$0[1], $0[0]], axis: 1)) }
    }

    @Test("2-D convolution, with stride and padding, and a small CNN")
    func convolution() throws {
        let x = Self.random([2, 2, 5, 5], seed: 28), w = Self.random([3, 2, 3, 3], seed: 29, low: -0.5, high: 0.5), b = Self.random([3], seed: 30)
        try expectHessianVectorProductsMatch([x, w, b]) { try $0[0].conv2d(weight: $0[1], bias: $0[2]).tanh() }
        try expectHessianVectorProductsMatch([x, w]) { try $0[0].conv2d(weight: $0[1], stride: 2, padding: 1).squared() }
        let head = Self.random([3, 12], seed: 31)
        try expectHessianVectorProductsMatch([x, w, head]) { inputs in
            // Smooth on purpose: a finite difference across a ReLU kink or a max switching places is not a derivative.
            let features = try inputs[0].conv2d(weight: inputs[1], padding: 1).tanh().avgPool2d(kernel: 2).reshaped(to: [2, 12])
            return try Tensor.crossEntropy(logits: features.matmul(inputs[2], transposeB: true), targets: [1, 2])
        }
    }

    @Test("max and average pooling")
    func pooling() throws {
        let x = Self.random([2, 2, 4, 4], seed: 27, low: -2, high: 2)
        try expectHessianVectorProductsMatch([x]) { try $0[0].maxPool2d(kernel: 2).squared() }
        try expectHessianVectorProductsMatch([x]) { try $0[0].avgPool2d(kernel: 2, stride: 1).tanh() }
    }

    @Test("layer norm and RMS norm")
    func normalization() throws {
        let x = Self.random([3, 6], seed: 24, low: -2, high: 2)
        let gamma = Self.random([6], seed: 25, low: 0.5, high: 1.5), beta = Self.random([6], seed: 26)
        try expectHessianVectorProductsMatch([x, gamma, beta]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]).tanh() }
        try expectHessianVectorProductsMatch([x, gamma]) { try $0[0].rmsNorm(weight: $0[1]).squared() }
    }

    @Test("MAML's meta-gradient through an SGD step equals finite differences of the post-step loss")
    func throughAnSGDStep() throws {
        // θ′ = θ − α ∇θ L_support(θ); the meta-gradient is d L_query(θ′) / dθ, whose
        // second-order term is − α H_support · ∇θ′ L_query.
        let support = Self.random([6, 4], seed: 15), query = Self.random([5, 4], seed: 16)
        let (supportLabels, queryLabels) = ([0, 1, 2, 0, 1, 2], [2, 1, 0, 0, 1])
        let alpha: Float = 0.5
        func network(_ x: Tensor, _ p: [Tensor]) throws -> Tensor {
            try x.linear(weight: p[0], bias: p[1]).tanh().linear(weight: p[2], bias: p[3])
        }
        func queryLossAfterStep(_ parameters: [Tensor], createGraph: Bool) throws -> Tensor {
            let inner = try Tensor.crossEntropy(logits: network(support, parameters), targets: supportLabels)
            let gradients = try inner.gradients(withRespectTo: parameters, createGraph: createGraph)
            let adapted = try zip(parameters, gradients).map { (p, g) throws in try p - g * alpha }
            return try Tensor.crossEntropy(logits: network(query, adapted), targets: queryLabels)
        }
        let parameters = [Self.random([3, 4], seed: 17), Self.random([3], seed: 18), Self.random([3, 3], seed: 19), Self.random([3], seed: 20)]
        let leaves = parameters.map { $0.requiringGrad() }
        let analytic = try queryLossAfterStep(leaves, createGraph: true).gradients(withRespectTo: leaves)
        let firstOrderOnly = try queryLossAfterStep(leaves, createGraph: false).gradients(withRespectTo: leaves)
        let epsilon: Float = 1e-2
        var largestSecondOrderTerm: Float = 0
        for (index, parameter) in parameters.enumerated() {
            for element in 0..<parameter.count {
                func loss(_ shift: Float) throws -> Float {
                    let shifted = parameters.enumerated().map { (i, p) -> Tensor in
                        guard i == index else { return p.requiringGrad() }
                        var values = p.scalars
                        values[element] += shift
                        return Tensor(shape: p.shape, storage: Storage(values)).requiringGrad()
                    }
                    return try queryLossAfterStep(shifted, createGraph: false).item
                }
                let numeric = (try loss(epsilon) - loss(-epsilon)) / (2 * epsilon)
                let exact = analytic[index].scalars[element]
                #expect(abs(exact - numeric) <= 2e-2 * (1 + abs(numeric)), "parameter \(index)[\(element)]: \(exact) vs \(numeric)")
                largestSecondOrderTerm = max(largestSecondOrderTerm, abs(exact - firstOrderOnly[index].scalars[element]))
            }
        }
        // The check must be able to fail: the first-order approximation differs measurably.
        #expect(largestSecondOrderTerm > 1e-3, "second-order term \(largestSecondOrderTerm)")
    }

    @Test("a second-order backward through an operation without a rule throws, naming it")
    func unsupportedOperationIsNamed() throws {
        let x = Self.random([4, 5], seed: 21).requiringGrad()
        let loss = try x.max(axis: 1).squared().sum()
        #expect(throws: TensorError.self) { try loss.gradients(withRespectTo: [x], createGraph: true) }
        do {
            _ = try loss.gradients(withRespectTo: [x], createGraph: true)
        } catch {
            #expect("\(error)".contains("max(axis:"), "\(error)")
        }
    }

    @Test("gradients(withRespectTo:) leaves leaves' grad alone and agrees with backward()")
    func functionalGradientsAgreeWithBackward() throws {
        let a = Self.random([3, 4], seed: 22).requiringGrad(), b = Self.random([4, 2], seed: 23).requiringGrad()
        let loss = try a.matmul(b).tanh().sum()
        let functional = try loss.gradients(withRespectTo: [a, b])
        #expect(a.grad == nil && b.grad == nil)
        try loss.backward()
        #expect(allClose(functional[0].scalars, a.grad!.scalars) && allClose(functional[1].scalars, b.grad!.scalars))
    }
}
