import Foundation
import OrreryTestSupport
import Tensor
import Testing

/// Every differentiable op against finite differences.
@Suite("Gradients match finite differences")
struct GradientCheckTests {
    static func random(_ shape: Shape, seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return .uniform(shape, low: low, high: high, using: &generator)
    }

    func expectGradientsMatch(
        _ inputs: [Tensor], tolerance: Float = 2e-2, _ function: @escaping ([Tensor]) throws -> Tensor,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let mismatches = try GradientCheck.mismatches(inputs, tolerance: tolerance, function)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))", sourceLocation: sourceLocation)
    }

    static let binaryShapes: [(Shape, Shape)] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([3, 4], [3, 1]), ([2, 1, 4], [3, 1]), ([], [2, 3]), ([3, 4], []),
    ]

    @Test("add, subtract, multiply, divide, with broadcasting", arguments: binaryShapes)
    func binary(shapes: (Shape, Shape)) throws {
        let a = Self.random(shapes.0, seed: 1), b = Self.random(shapes.1, seed: 2, low: 0.5, high: 2)
        try expectGradientsMatch([a, b]) { try $0[0] + $0[1] }
        try expectGradientsMatch([a, b]) { try $0[0] - $0[1] }
        try expectGradientsMatch([a, b]) { try $0[0] * $0[1] }
        try expectGradientsMatch([a, b]) { try $0[0] / $0[1] }
    }

    @Test("unary functions")
    func unary() throws {
        let x = Self.random([3, 5], seed: 3, low: -2, high: 2)
        let positive = Self.random([3, 5], seed: 4, low: 0.5, high: 3)
        try expectGradientsMatch([x]) { -$0[0] }
        try expectGradientsMatch([x]) { $0[0].exp() }
        try expectGradientsMatch([positive]) { $0[0].log() }
        try expectGradientsMatch([positive]) { $0[0].sqrt() }
        try expectGradientsMatch([x]) { $0[0].tanh() }
        try expectGradientsMatch([x]) { $0[0].sigmoid() }
        try expectGradientsMatch([x]) { $0[0].gelu(approximate: true) }
        try expectGradientsMatch([x]) { $0[0].gelu(approximate: false) }
        try expectGradientsMatch([x]) { $0[0].squared() }
        try expectGradientsMatch([x]) { $0[0].silu() }
        try expectGradientsMatch([positive]) { $0[0].pow(1.7) }
        try expectGradientsMatch([x]) { $0[0] * 3 + 1 }
        try expectGradientsMatch([positive]) { 2 - $0[0] / 4 }
        // relu has a kink at 0: keep inputs away from it.
        let awayFromZero = try x + Tensor.full(0.05, [3, 5]) * x.detached().squared().sqrt() / x.detached()
        try expectGradientsMatch([awayFromZero]) { $0[0].relu() }
    }

    @Test("packed self-attention on (Q | K | V) rows equals attention on the three parts, with matching gradients")
    func packedAttention() throws {
        let packed = Self.random([2, 4, 3 * 6], seed: 29)
        let parts = try packed.split([6, 6, 6], axis: 2)
        for mask in [nil, try Tensor.paddingMask(lengths: [4, 2], length: 4)] {
            try expectGradientsMatch([packed]) { try Tensor.multiHeadAttention(packed: $0[0], heads: 2, mask: mask) }
            let fused = try Tensor.multiHeadAttention(packed: packed, heads: 2, mask: mask)
            let separate = try Tensor.multiHeadAttention(query: parts[0], key: parts[1], value: parts[2], heads: 2, keyValueHeads: 2, mask: mask)
            #expect(fused.shape == [2, 4, 6] && allClose(fused.scalars, separate.scalars))
        }
    }

    @Test("fused linear x·Wᵀ + b equals matmul plus bias, and its gradients match finite differences")
    func linear() throws {
        let x = Self.random([2, 3, 4], seed: 25), w = Self.random([5, 4], seed: 26), b = Self.random([5], seed: 27)
        try expectGradientsMatch([x, w, b]) { try $0[0].linear(weight: $0[1], bias: $0[2]) }
        let fused = try x.linear(weight: w, bias: b), separate = try x.matmul(w, transposeB: true) + b
        #expect(fused.shape == [2, 3, 5] && allClose(fused.scalars, separate.scalars))
    }

    @Test("rotary position embedding at explicit positions, and its values against the rotation formula")
    func rotary() throws {
        let x = Self.random([2, 3, 4, 6], seed: 21)
        try expectGradientsMatch([x]) { try $0[0].rotaryEmbedding(positions: [0, 5, 6, 900], base: 100) }
        // Two heads of width 4 side by side in each row rotate like each head alone.
        let rows = Self.random([3, 8], seed: 28)
        let together = try rows.rotaryEmbedding(positions: [1, 2, 30], base: 10, headWidth: 4)
        let halves = try rows.split([4, 4], axis: 1).map { try $0.rotaryEmbedding(positions: [1, 2, 30], base: 10) }
        #expect(allClose(together.scalars, try Tensor.concatenate(halves, axis: 1).scalars))
        try expectGradientsMatch([rows]) { try $0[0].rotaryEmbedding(positions: [1, 2, 30], base: 10, headWidth: 4) }
        // Pair (x0, x1) at position p turns by p radians; pair (x2, x3) by p · 100^(−2/6).
        let one = try Tensor([1, 0, 0, 1, 1, 1], shape: [1, 6]).rotaryEmbedding(positions: [2], base: 100).scalars
        let slow = 2 * Float(pow(100, -2.0 / 6))
        let expected: [Float] = [cos(2), sin(2), -sin(slow), cos(slow), one[4], one[5]]
        #expect(zip(one, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(abs(one[4] * one[4] + one[5] * one[5] - 2) < 1e-5)  // rotations keep length
    }

    /// Attention spelled out with basic ops: heads split by reshape and permute, each key/value
    /// head repeated for the query heads it serves, softmax(Q·Kᵀ/√d + mask)·V, heads merged.
    static func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, keyValueHeads: Int, mask: Tensor?) throws -> Tensor {
        let (batch, length, keyLength, width) = (q.shape[0], q.shape[1], k.shape[1], q.shape[2] / heads)
        func split(_ x: Tensor, _ n: Int, _ t: Int) throws -> Tensor { try x.reshaped(to: [batch, t, n, width]).permuted([0, 2, 1, 3]) }
        func repeated(_ x: Tensor) throws -> Tensor {
            let parts = try x.split(Array(repeating: 1, count: keyValueHeads), axis: 1)
            return try Tensor.concatenate(parts.flatMap { Array(repeating: $0, count: heads / keyValueHeads) }, axis: 1)
        }
        var scores = try split(q, heads, length).matmul(repeated(split(k, keyValueHeads, keyLength)), transposeB: true) * (1 / Float(width).squareRoot())
        if let mask { scores = try scores + mask }
        let context = try scores.softmax().matmul(repeated(split(v, keyValueHeads, keyLength)))
        return try context.permuted([0, 2, 1, 3]).reshaped(to: [batch, length, heads * width])
    }

    @Test("fused multi-head attention, grouped and masked, equals attention from basic ops, and its gradients match finite differences")
    func fusedAttention() throws {
        let q = Self.random([2, 3, 4 * 5], seed: 22), k = Self.random([2, 6, 2 * 5], seed: 23), v = Self.random([2, 6, 2 * 5], seed: 24)
        for mask in [nil, try Tensor.paddingMask(lengths: [6, 4], length: 6), try Tensor.causalMask(6).sliced(axis: 0, 3..<6)] {
            try expectGradientsMatch([q, k, v]) {
                try Tensor.multiHeadAttention(query: $0[0], key: $0[1], value: $0[2], heads: 4, keyValueHeads: 2, mask: mask)
            }
            let fused = try Tensor.multiHeadAttention(query: q, key: k, value: v, heads: 4, keyValueHeads: 2, mask: mask)
            let reference = try Self.referenceAttention(q, k, v, heads: 4, keyValueHeads: 2, mask: mask)
            #expect(fused.shape == [2, 3, 20] && allClose(fused.scalars, reference.scalars))
        }
    }

    @Test("sum, mean and max over axes")
    func reductions() throws {
        let x = Self.random([2, 3, 4], seed: 5)
        try expectGradientsMatch([x]) { try $0[0].sum() }
        try expectGradientsMatch([x]) { try $0[0].sum(axis: 1) }
        try expectGradientsMatch([x]) { try $0[0].sum(axes: [0, 2], keepDimensions: true) }
        try expectGradientsMatch([x]) { try $0[0].mean(axis: -1) }
        try expectGradientsMatch([x]) { try $0[0].mean() }
        try expectGradientsMatch([x]) { try $0[0].max(axis: 1) }
        try expectGradientsMatch([x]) { try $0[0].max(axis: -1, keepDimensions: true) }
    }

    @Test("matmul with every transpose, batched, and with a shared weight")
    func matmul() throws {
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = Self.random(transposeA ? [4, 3] : [3, 4], seed: 6)
            let b = Self.random(transposeB ? [5, 4] : [4, 5], seed: 7)
            try expectGradientsMatch([a, b]) { try $0[0].matmul($0[1], transposeA: transposeA, transposeB: transposeB) }
            let batchedA = Self.random(transposeA ? [2, 4, 3] : [2, 3, 4], seed: 8)
            let batchedB = Self.random(transposeB ? [2, 5, 4] : [2, 4, 5], seed: 9)
            try expectGradientsMatch([batchedA, batchedB]) {
                try $0[0].matmul($0[1], transposeA: transposeA, transposeB: transposeB)
            }
            try expectGradientsMatch([batchedA, b]) { try $0[0].matmul($0[1], transposeA: transposeA, transposeB: transposeB) }
        }
    }

    @Test("reshape, permute, transpose, concatenate, split, slice")
    func shapes() throws {
        let x = Self.random([2, 3, 4], seed: 10), y = Self.random([2, 2, 4], seed: 11)
        try expectGradientsMatch([x]) { try $0[0].reshaped(to: [6, -1]) }
        try expectGradientsMatch([x]) { try $0[0].permuted([2, 0, 1]) }
        try expectGradientsMatch([x]) { try $0[0].transposed() }
        try expectGradientsMatch([x, y]) { try Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        try expectGradientsMatch([x]) { try Tensor.concatenate($0[0].split([1, 2], axis: 1).reversed(), axis: 1) }
        try expectGradientsMatch([x]) { try $0[0].sliced(axis: 2, 1..<3) }
    }

    @Test("softmax, log-softmax, cross-entropy, MSE and temperature KL")
    func losses() throws {
        let logits = Self.random([4, 5], seed: 12, low: -3, high: 3)
        let other = Self.random([4, 5], seed: 13, low: -3, high: 3)
        try expectGradientsMatch([logits]) { try $0[0].softmax() }
        try expectGradientsMatch([logits]) { try $0[0].logSoftmax() }
        try expectGradientsMatch([logits]) { try Tensor.crossEntropy(logits: $0[0], targets: [0, 4, 2, 2]) }
        try expectGradientsMatch([logits, other]) { try Tensor.meanSquaredError($0[0], $0[1]) }
        // The teacher is a constant: only the student gets a gradient.
        try expectGradientsMatch([logits]) { try Tensor.klDivergence(student: $0[0], teacher: other, temperature: 2.5) }
    }
}

@Suite("Convolution and pooling")
struct ConvolutionTests {
    @Test("conv2d gradients (input, weight, bias) match finite differences, with stride and padding",
          arguments: [(1, 0), (1, 1), (2, 1)])
    func convolutionGradients(geometry: (Int, Int)) throws {
        let (stride, padding) = geometry
        let x = GradientCheckTests.random([2, 3, 5, 4], seed: 20)
        let w = GradientCheckTests.random([4, 3, 3, 2], seed: 21)
        let b = GradientCheckTests.random([4], seed: 22)
        let mismatches = try GradientCheck.mismatches([x, w, b]) {
            try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: padding)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(4))")
    }

    @Test("conv2d equals a direct sliding-window sum")
    func convolutionReference() throws {
        let x = GradientCheckTests.random([1, 2, 4, 4], seed: 23), w = GradientCheckTests.random([3, 2, 3, 3], seed: 24)
        let y = try x.conv2d(weight: w, padding: 1)
        #expect(y.shape == [1, 3, 4, 4])
        let xs = x.scalars, ws = w.scalars
        var expected: [Float] = []
        for o in 0..<3 {
            for oy in 0..<4 {
                for ox in 0..<4 {
                    var total: Float = 0
                    for c in 0..<2 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let (iy, ix) = (oy - 1 + ky, ox - 1 + kx)
                                guard (0..<4).contains(iy), (0..<4).contains(ix) else { continue }
                                total += xs[(c * 4 + iy) * 4 + ix] * ws[((o * 2 + c) * 3 + ky) * 3 + kx]
                            }
                        }
                    }
                    expected.append(total)
                }
            }
        }
        #expect(allClose(y.scalars, expected, tolerance: 1e-5))
        #expect(throws: TensorError.self) { try x.conv2d(weight: GradientCheckTests.random([3, 5, 3, 3], seed: 1)) }
    }

    @Test("max and average pooling: values and gradients")
    func pooling() throws {
        let x = try Tensor((0..<16).map { Float(($0 * 7) % 16) }, shape: [1, 1, 4, 4])
        // 0 7 14 5 / 12 3 10 1 / 8 15 6 13 / 4 11 2 9
        #expect(try x.maxPool2d(kernel: 2).scalars == [12, 14, 15, 13])
        #expect(try x.avgPool2d(kernel: 2).scalars == [5.5, 7.5, 9.5, 7.5])
        // Distinct values 0.1 apart, so a ±ε nudge never changes which element is the maximum.
        var generator = SplitMix64(seed: 25)
        let spaced = try Tensor((0..<96).map { Float($0) * 0.1 }.shuffled(using: &generator), shape: [2, 2, 4, 6])
        #expect(try GradientCheck.mismatches([spaced]) { try $0[0].maxPool2d(kernel: 2) }.isEmpty)
        let random = GradientCheckTests.random([2, 2, 4, 6], seed: 25)
        #expect(try GradientCheck.mismatches([random]) { try $0[0].avgPool2d(kernel: 3, stride: 1) }.isEmpty)
    }
}
