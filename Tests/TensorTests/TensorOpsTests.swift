import Foundation
import OrreryTestSupport
import Tensor
import Testing

@Suite("Tensor operations")
struct TensorOpsTests {
    func random(_ shape: Shape, seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return .uniform(shape, low: -1, high: 1, using: &generator)
    }

    /// C = A·B by three loops in Double: the reference for BLAS.
    func naiveMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k { total += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(total)
            }
        }
        return c
    }

    @Test("matmul equals the naive product, including empty and odd sizes", arguments: [(1, 1, 1), (3, 5, 2), (17, 33, 9), (64, 1, 31), (0, 4, 3), (3, 0, 2)])
    func matmulReference(size: (Int, Int, Int)) throws {
        let (m, k, n) = size
        let a = random([m, k], seed: 1), b = random([k, n], seed: 2)
        let c = try a.matmul(b)
        #expect(c.shape == [m, n])
        #expect(allClose(c.scalars, naiveMatmul(a.scalars, b.scalars, m: m, k: k, n: n), tolerance: 1e-5))
        let viaTransposes = try a.transposed().matmul(b.transposed(), transposeA: true, transposeB: true)
        #expect(allClose(viaTransposes.scalars, c.scalars, tolerance: 1e-5))
    }

    @Test("broadcasting follows NumPy's rules, and a misfit names both shapes")
    func broadcasting() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(try (a + Tensor([10, 20, 30], shape: [3])).scalars == [11, 22, 33, 14, 25, 36])
        #expect(try (a * Tensor([2, 3], shape: [2, 1])).scalars == [2, 4, 6, 12, 15, 18])
        #expect(try (Tensor([1, 2], shape: [2, 1, 1]) - Tensor([1, 2, 3], shape: [1, 3])).shape == [2, 1, 3])
        #expect((a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        let error = #expect(throws: TensorError.self) { try a + Tensor([1, 2], shape: [2]) }
        #expect(error?.description == "add: shapes [2, 3] and [2] do not fit")
        #expect(try (Tensor.zeros([0, 3]) + Tensor([1, 2, 3], shape: [3])).shape == [0, 3])
    }

    @Test("reductions over axes, with and without kept dimensions")
    func reductions() throws {
        let x = try Tensor((1...24).map(Float.init), shape: [2, 3, 4])
        #expect(try x.sum().item == 300)
        #expect(try x.sum(axis: 1).scalars == [15, 18, 21, 24, 51, 54, 57, 60])
        #expect(try x.sum(axes: [0, 2], keepDimensions: true).shape == [1, 3, 1])
        #expect(try x.sum(axes: [0, 2]).scalars == [68, 100, 132])
        #expect(try x.mean(axis: -1).scalars == [2.5, 6.5, 10.5, 14.5, 18.5, 22.5])
        #expect(try x.max(axis: 0).scalars == Array((13...24).map(Float.init)))
        #expect(try Tensor([3, 9, 9, 1], shape: [2, 2]).argmax(axis: 1).scalars == [1, 0])
        #expect(throws: TensorError.self) { try x.sum(axis: 3) }
    }

    @Test("softmax rows sum to one even for huge logits; cross-entropy matches its definition")
    func softmaxAndCrossEntropy() throws {
        let logits = try Tensor([1000, 1001, 1002, -5, 0, 5], shape: [2, 3])
        let probabilities = try logits.softmax()
        for row in 0..<2 {
            let total = probabilities.scalars[(row * 3)..<(row * 3 + 3)].reduce(0, +)
            #expect(abs(total - 1) < 1e-6)
        }
        #expect(probabilities.scalars.allSatisfy { $0.isFinite })
        let loss = try Tensor.crossEntropy(logits: logits, targets: [2, 0])
        let logP = try logits.logSoftmax().scalars
        #expect(abs(loss.item - -(logP[2] + logP[3]) / 2) < 1e-5)
        #expect(throws: TensorError.self) { try Tensor.crossEntropy(logits: logits, targets: [3, 0]) }
    }

    @Test("gradients accumulate across backward calls until zeroGrad; no-grad and detach record nothing")
    func autodiffMechanics() throws {
        let w = try Tensor([1, 2, 3], shape: [3]).requiringGrad()
        try (w * w).sum().backward()
        try (w * w).sum().backward()
        #expect(w.grad?.scalars == [4, 8, 12])
        w.zeroGrad()
        #expect(w.grad == nil)
        let untracked = withNoGrad { w * 2 }
        #expect(!untracked.requiresGrad)
        #expect(!(w.detached() * 2).requiresGrad)
        #expect(throws: TensorError.self) { try untracked.sum().backward() }
        // A value used twice gets both contributions.
        let x = try Tensor([2], shape: [1]).requiringGrad()
        try (x * x + x.exp()).sum().backward()
        #expect(abs(x.grad!.item - (4 + Float(exp(2.0)))) < 1e-4)
    }

    @Test("seeded random tensors are identical for the same seed and differ for another")
    func seededRandom() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        let x = Tensor.normal([1000], using: &a), y = Tensor.normal([1000], using: &b), z = Tensor.normal([1000], using: &c)
        #expect(x.scalars == y.scalars)
        #expect(x.scalars != z.scalars)
        let mean = x.scalars.reduce(0, +) / 1000
        let variance = x.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1000
        #expect(abs(mean) < 0.1 && abs(variance - 1) < 0.1)
        // A value fixed once, so a change in the generator is caught.
        var fixed = SplitMix64(seed: 0)
        #expect(fixed.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test("shape ops move the right elements")
    func shapeOps() throws {
        let x = try Tensor((0..<6).map(Float.init), shape: [2, 3])
        #expect(try x.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(try x.sliced(axis: 1, 1..<3).scalars == [1, 2, 4, 5])
        #expect(try Tensor.concatenate([x, x], axis: 0).shape == [4, 3])
        #expect(try Tensor.concatenate([x, x], axis: 1).scalars == [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
        let pieces = try x.split([1, 2], axis: 1)
        #expect(pieces.map(\.shape) == [[2, 1], [2, 2]])
        #expect(try x.reshaped(to: [3, -1]).shape == [3, 2])
        #expect(throws: TensorError.self) { try x.reshaped(to: [4, -1]) }
        #expect(throws: TensorError.self) { try x.sliced(axis: 0, 1..<3) }
    }
}

@Suite("Vectorized math against libm")
struct VectorMathTests {
    @Test("exp, sigmoid, tanh and both GELUs agree with libm to float precision over a wide range")
    func accuracy() throws {
        let values = stride(from: -20.0, through: 20.0, by: 0.0137).map { Float($0) }
        let x = try Tensor(values, shape: [values.count])
        func close(_ got: [Float], _ want: (Float) -> Float, tolerance: Float) -> Bool {
            zip(got, values).allSatisfy { abs($0 - want($1)) <= tolerance * (1 + abs(want($1))) }
        }
        #expect(close(x.exp().scalars, { Foundation.exp($0) }, tolerance: 1e-6))
        #expect(close(x.sigmoid().scalars, { 1 / (1 + Foundation.exp(-$0)) }, tolerance: 1e-6))
        #expect(close(x.tanh().scalars, { Foundation.tanh($0) }, tolerance: 1e-6))
        #expect(close(x.gelu().scalars, { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }, tolerance: 1e-6))
        let inner = { (v: Float) in Float(2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v) }
        #expect(close(x.gelu(approximate: true).scalars, { 0.5 * $0 * (1 + Foundation.tanh(inner($0))) }, tolerance: 1e-6))
        // Extremes behave as libm: exp flushes to 0 below the float range and overflows to ∞ above.
        let extreme = try Tensor([-200, 200], shape: [2])
        #expect(extreme.exp().scalars == [0, .infinity])
        #expect(extreme.sigmoid().scalars == [0, 1])
    }
}
