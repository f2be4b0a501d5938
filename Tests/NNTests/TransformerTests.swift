import NN
import OrreryTestSupport
import Tensor
import Testing

@Suite("Normalization, embeddings and attention")
struct TransformerTests {
    func random(_ shape: Shape, seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return .uniform(shape, low: -1, high: 1, using: &generator)
    }

    @Test("layer norm and RMS norm: gradients of input, scale and shift match finite differences")
    func normGradients() throws {
        let x = random([3, 6], seed: 1), gamma = random([6], seed: 2), beta = random([6], seed: 3)
        #expect(try GradientCheck.mismatches([x, gamma, beta]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }.isEmpty)
        #expect(try GradientCheck.mismatches([x, gamma]) { try $0[0].rmsNorm(weight: $0[1]) }.isEmpty)
    }

    @Test("layer norm rows have mean 0 and variance 1 before scale and shift")
    func normStatistics() throws {
        let y = try random([4, 64], seed: 4).layerNorm(weight: .full(1, [64]), bias: .zeros([64]))
        for row in 0..<4 {
            let values = y.scalars[(row * 64)..<(row * 64 + 64)]
            let mean = values.reduce(0, +) / 64
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 64
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3)
        }
    }

    @Test("embedding gradients scatter-add into the rows used, repeats included")
    func embedding() throws {
        let table = random([5, 3], seed: 5)
        #expect(try GradientCheck.mismatches([table]) { try $0[0].embedding([4, 1, 4, 0], shape: [2, 2]) }.isEmpty)
        let leaf = table.requiringGrad()
        try leaf.embedding([2, 2, 2]).sum().backward()
        #expect(leaf.grad!.scalars[6..<9].allSatisfy { $0 == 3 })
        #expect(leaf.grad!.scalars[0..<6].allSatisfy { $0 == 0 })
        #expect(throws: TensorError.self) { try table.embedding([5]) }
    }

    @Test("dropout is seeded, keeps the expected fraction, and scales survivors by 1/(1−p)")
    func dropout() throws {
        let ones = Tensor.full(1, [10_000])
        var a = SplitMix64(seed: 8), b = SplitMix64(seed: 8)
        let first = try ones.dropout(0.25, using: &a), second = try ones.dropout(0.25, using: &b)
        #expect(first.scalars == second.scalars)
        let kept = first.scalars.filter { $0 != 0 }
        #expect(abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
        #expect(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
    }

    @Test("attention: input gradients match finite differences, with and without a mask")
    func attentionGradients() throws {
        var generator = SplitMix64(seed: 9)
        let attention = MultiHeadAttention(width: 4, heads: 2, using: &generator)
        let x = random([2, 3, 4], seed: 10)
        #expect(try GradientCheck.mismatches([x]) { try attention($0[0]) }.isEmpty)
        let mask = try Tensor.paddingMask(lengths: [3, 2], length: 3)
        #expect(try GradientCheck.mismatches([x]) { try attention($0[0], mask: mask) }.isEmpty)
    }

    @Test("a causal mask keeps earlier positions blind to later ones")
    func causality() throws {
        var generator = SplitMix64(seed: 11)
        let attention = MultiHeadAttention(width: 8, heads: 2, using: &generator)
        let x = random([1, 4, 8], seed: 12)
        var changed = x.scalars
        for i in 24..<32 { changed[i] += 1 }  // the last position only
        let mask = Tensor.causalMask(4)
        let before = try attention(x, mask: mask).scalars, after = try attention(Tensor(changed, shape: [1, 4, 8]), mask: mask).scalars
        #expect(Array(before[0..<24]) == Array(after[0..<24]))
        #expect(Array(before[24..<32]) != Array(after[24..<32]))
    }

    @Test("an encoder layer's input gradients match finite differences; its parameters are named")
    func encoderLayer() throws {
        var generator = SplitMix64(seed: 13)
        let layer = TransformerEncoderLayer(width: 8, heads: 2, feedForward: 16, using: &generator)
        let x = random([2, 3, 8], seed: 14)
        let mismatches = try GradientCheck.mismatches([x], tolerance: 3e-2) { try layer($0[0]) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")
        #expect(layer.namedParameters().map(\.name).prefix(3) == ["attention.query.weight", "attention.query.bias", "attention.key.weight"])
        #expect(layer.parameterCount == 4 * (8 * 8 + 8) + 2 * 16 + (8 * 16 + 16) + (16 * 8 + 8))
    }
}
