import OrreryTestSupport
import Testing

@testable import Tensor

@Suite("Deferred weight gradients (the B/W split)")
struct DeferredWeightGradientsTests {
    /// A two-layer MLP's parameters: w1 [6, 5], b1 [6], w2 [3, 6], b2 [3].
    static func parameters() -> [Tensor] {
        var generator = SplitMix64(seed: 11)
        return [[6, 5], [6], [3, 6], [3]].map { Tensor.uniform(Shape($0), low: -0.5, high: 0.5, using: &generator).requiringGrad() }
    }

    /// Micro-batches of 2, 4 and 3 rows, each with an input that takes a gradient (as a
    /// pipeline stage's received activations do).
    static func microBatches() -> [Tensor] {
        var generator = SplitMix64(seed: 12)
        return [2, 4, 3].map { Tensor.uniform([$0, 5], low: -1, high: 1, using: &generator).requiringGrad() }
    }

    static func loss(_ x: Tensor, _ p: [Tensor]) throws -> Tensor {
        try x.linear(weight: p[0], bias: p[1]).relu().linear(weight: p[2], bias: p[3]).squared().sum()
    }

    @Test("held back and added once, the weights' gradients equal immediate accumulation; biases and input gradients are unchanged, bit for bit")
    func equalsImmediate() throws {
        let immediate = Self.parameters(), deferredParameters = Self.parameters()
        let (inputsA, inputsB) = (Self.microBatches(), Self.microBatches())
        for x in inputsA { try Self.loss(x, immediate).backward() }

        let deferral = DeferredWeightGradients()
        for x in inputsB {
            try deferral.during { try Self.loss(x, deferredParameters).backward() }
        }
        #expect(!deferral.isEmpty)
        #expect(deferredParameters[0].grad == nil && deferredParameters[2].grad == nil, "nothing reaches the weights before the flush")
        #expect(deferredParameters[1].grad?.scalars == immediate[1].grad?.scalars && deferredParameters[3].grad?.scalars == immediate[3].grad?.scalars)
        for (a, b) in zip(inputsA, inputsB) { #expect(a.grad?.scalars == b.grad?.scalars, "the input's gradient is computed at once") }
        try deferral.flush()
        #expect(deferral.isEmpty)
        for index in [0, 2] {
            let (expected, got) = (try #require(immediate[index].grad).scalars, try #require(deferredParameters[index].grad).scalars)
            #expect(allClose(got, expected, tolerance: 1e-6), "parameter \(index)")
        }
    }

    @Test("deferred products add onto a gradient the weight already holds; flushing twice adds nothing more")
    func addsToExisting() throws {
        let immediate = Self.parameters(), mixed = Self.parameters()
        let (inputsA, inputsB) = (Self.microBatches(), Self.microBatches())
        for x in inputsA { try Self.loss(x, immediate).backward() }
        try Self.loss(inputsB[0], mixed).backward()
        let deferral = DeferredWeightGradients()
        for x in inputsB.dropFirst() { try deferral.during { try Self.loss(x, mixed).backward() } }
        try deferral.flush()
        try deferral.flush()
        #expect(allClose(try #require(mixed[0].grad).scalars, try #require(immediate[0].grad).scalars, tolerance: 1e-6))
        #expect(allClose(try #require(mixed[2].grad).scalars, try #require(immediate[2].grad).scalars, tolerance: 1e-6))
    }

    @Test("frozen weights and gradients(withRespectTo:) are never deferred")
    func scope() throws {
        let p = Self.parameters()
        p[0].setFrozen(true)
        p[2].setFrozen(true)
        let deferral = DeferredWeightGradients()
        let x = Self.microBatches()[0]
        try deferral.during { try Self.loss(x, p).backward() }
        #expect(deferral.isEmpty && p[0].grad == nil && p[1].grad != nil)

        let q = Self.parameters()
        let returned = try deferral.during { try Self.loss(x, q).gradients(withRespectTo: q) }
        let reference = try Self.loss(x, q).gradients(withRespectTo: q)
        #expect(deferral.isEmpty && q.allSatisfy { $0.grad == nil })
        #expect(returned.map(\.scalars) == reference.map(\.scalars))
    }
}
