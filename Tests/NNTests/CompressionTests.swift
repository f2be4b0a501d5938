import NN
import OrreryTestSupport
import Tensor
import Testing

@Suite("Compression: pruning and distillation")
struct CompressionTests {
    static func mlp(seed: UInt64 = 4) -> Sequential {
        var generator = SplitMix64(seed: seed)
        return MLP.make([12, 9, 7, 3], using: &generator)
    }

    @Test("Removing neurons gives the outputs of the dense model with those neurons masked, with fewer parameters")
    func removalEqualsMask() throws {
        let dense = Self.mlp()
        let kept = NeuronPruning.kept(dense, fraction: 0.5)
        #expect(kept.map(\.count) == [5, 4])  // 9 · 0.5 rounds to 5, 7 · 0.5 to 4
        let pruned = try NeuronPruning.removing(dense, keeping: kept)
        // The masked dense model: removed neurons' rows and biases zeroed, and their columns
        // in the next layer, so nothing they would compute reaches the output.
        let masked = Self.mlp()
        for (junction, neurons) in zip(NeuronPruning.junctions(masked), kept) {
            let producer = masked.layers[junction.producer] as! Linear, consumer = masked.layers[junction.consumer] as! Linear
            let (width, inputs) = (producer.weight.shape[0], producer.weight.shape[1])
            producer.weight.storage.withUnsafeMutableBufferPointer { w in
                for j in 0..<width where !neurons.contains(j) { for t in 0..<inputs { w[j * inputs + t] = 0 } }
            }
            producer.bias!.storage.withUnsafeMutableBufferPointer { b in for j in 0..<width where !neurons.contains(j) { b[j] = 0 } }
            consumer.weight.storage.withUnsafeMutableBufferPointer { w in
                for o in 0..<consumer.weight.shape[0] { for j in 0..<width where !neurons.contains(j) { w[o * width + j] = 0 } }
            }
        }
        var generator = SplitMix64(seed: 11)
        let x = Tensor.uniform([6, 12], low: -2, high: 2, using: &generator)
        #expect(allClose(try pruned(x).scalars, try masked(x).scalars, tolerance: 1e-5))
        #expect(pruned.parameterCount == 12 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3)
        // The dense model is untouched, and training the pruned one never writes into it.
        #expect(dense.parameters.map(\.scalars) == Self.mlp().parameters.map(\.scalars))
    }

    @Test("Importance ranks a neuron by its incoming and outgoing weights, and is unchanged by rescaling through a ReLU")
    func importance() throws {
        let model = Self.mlp()
        let junction = NeuronPruning.junctions(model)[0]
        let before = NeuronPruning.importance(model, at: junction)
        let (producer, consumer) = (model.layers[junction.producer] as! Linear, model.layers[junction.consumer] as! Linear)
        // Neuron 2's row × 4 and column ÷ 4: the same function, the same importance.
        producer.weight.storage.withUnsafeMutableBufferPointer { w in for t in 0..<12 { w[2 * 12 + t] *= 4 } }
        producer.bias!.storage.withUnsafeMutableBufferPointer { $0[2] *= 4 }
        consumer.weight.storage.withUnsafeMutableBufferPointer { w in for o in 0..<7 { w[o * 9 + 2] /= 4 } }
        let after = NeuronPruning.importance(model, at: junction)
        #expect(abs(after[2] - before[2]) <= 1e-5 * before[2])
        #expect(throws: TensorError.self) { try NeuronPruning.removing(model, keeping: [[0, 0], [1]]) }
        #expect(throws: TensorError.self) { try NeuronPruning.removing(model, keeping: [[9], [1]]) }
        #expect(throws: TensorError.self) { try NeuronPruning.removing(model, keeping: [[1]]) }
    }

    @Test("Magnitude pruning zeroes exactly the smallest weights, keeps them zero after updates, and counts sparse bytes")
    func magnitude() throws {
        let model = Self.mlp()
        let pruning = try MagnitudePruning(model, sparsity: 0.8)
        let weights = pruning.weights.flatMap(\.scalars)
        let threshold = weights.map(abs).sorted()[Int(Double(weights.count) * 0.8) - 1]
        pruning.apply()
        #expect(abs(pruning.sparsity - 0.8) < 1.0 / Double(weights.count) + 1e-9)
        for (before, after) in zip(weights, pruning.weights.flatMap(\.scalars)) {
            #expect(after == (abs(before) <= threshold ? 0 : before))
        }
        // An optimizer step moves every weight; apply() puts the pruned ones back to zero.
        for weight in pruning.weights { weight.storage.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] += 0.01 } } }
        pruning.apply()
        #expect(abs(pruning.sparsity - 0.8) < 1.0 / Double(weights.count) + 1e-9)
        let nonzero = pruning.weights.reduce(0) { $0 + $1.scalars.filter { $0 != 0 }.count }
        let biases = 9 + 7 + 3
        #expect(MagnitudePruning.sparseBytes(model) == 6 * nonzero + 4 * (9 + 1 + 7 + 1 + 3 + 1) + 4 * biases)
        // Per layer: each weight matrix loses its own 80%.
        let perLayer = try MagnitudePruning(Self.mlp(), sparsity: 0.8, global: false)
        perLayer.apply()
        for weight in perLayer.weights { #expect(weight.scalars.filter { $0 == 0 }.count == Int(Double(weight.count) * 0.8)) }
        #expect(throws: TensorError.self) { try MagnitudePruning(model, sparsity: 1) }
    }

    @Test("The distillation loss's gradient matches finite differences; α = 0 is cross-entropy; a student equal to its teacher has no soft loss")
    func distillation() throws {
        var generator = SplitMix64(seed: 5)
        let student = Tensor.uniform([4, 5], low: -3, high: 3, using: &generator)
        let teacher = Tensor.uniform([4, 5], low: -3, high: 3, using: &generator)
        let targets = [0, 3, 4, 1]
        let mismatches = try GradientCheck.mismatches([student]) {
            try KnowledgeDistillation.loss(student: $0[0], teacher: teacher, targets: targets, temperature: 3, alpha: 0.7)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")
        let hard = try KnowledgeDistillation.loss(student: student, teacher: teacher, targets: targets, temperature: 3, alpha: 0)
        #expect(abs(hard.item - (try Tensor.crossEntropy(logits: student, targets: targets)).item) < 1e-6)
        let same = try KnowledgeDistillation.loss(student: teacher, teacher: teacher, targets: targets, temperature: 4, alpha: 1)
        #expect(abs(same.item) < 1e-5)
        // The soft term's gradient is T·(q − p)/N.
        let x = student.requiringGrad()
        try KnowledgeDistillation.loss(student: x, teacher: teacher, targets: targets, temperature: 2, alpha: 1).backward()
        let q = try (student * 0.5).softmax().scalars, p = try (teacher * 0.5).softmax().scalars
        let expected = zip(q, p).map { 2 * ($0 - $1) / 4 }
        #expect(allClose(try #require(x.grad).scalars, expected, tolerance: 1e-5))
        #expect(throws: TensorError.self) { try KnowledgeDistillation.loss(student: student, teacher: teacher, targets: targets, temperature: 0, alpha: 0.5) }
    }
}
