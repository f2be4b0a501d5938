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
        let kept = StructuredPruning.kept(dense, fraction: 0.5)
        #expect(kept.map(\.count) == [5, 4])  // 9 · 0.5 rounds to 5, 7 · 0.5 to 4
        let pruned = try StructuredPruning.removing(dense, keeping: kept)
        // The masked dense model: removed neurons' rows and biases zeroed, and their columns
        // in the next layer, so nothing they would compute reaches the output.
        let masked = Self.mlp()
        for (junction, neurons) in zip(StructuredPruning.junctions(masked), kept) {
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

    static func cnn(seed: UInt64 = 6) -> Sequential {
        var generator = SplitMix64(seed: seed)
        return CNN.make(imageShape: [2, 8, 8], channels: [6, 5], hidden: [7], classes: 3, using: &generator)
    }

    @Test("Removing convolution channels gives the outputs of the dense CNN with those channels masked: through pooling into the next convolution, and through the flatten into the head")
    func channelRemovalEqualsMask() throws {
        let dense = Self.cnn()
        // Reshape, conv 2→6, ReLU, pool, conv 6→5, ReLU, pool, flatten (5·2·2), linear 20→7, ReLU, linear 7→3.
        #expect(StructuredPruning.junctions(dense) == [.init(producer: 1, consumer: 4, block: 9), .init(producer: 4, consumer: 8, block: 4), .init(producer: 8, consumer: 10, block: 1)])
        let kept = StructuredPruning.kept(dense, fraction: 0.5)
        #expect(kept.map(\.count) == [3, 3, 4])  // 6 · 0.5; 5 · 0.5 and 7 · 0.5 round half away from zero
        let pruned = try StructuredPruning.removing(dense, keeping: kept)
        let masked = Self.cnn()
        for (junction, units) in zip(StructuredPruning.junctions(masked), kept) {
            let (producer, consumer) = (masked.layers[junction.producer].namedParameters(), masked.layers[junction.consumer].namedParameters())
            let (weight, bias, next) = (producer[0].tensor, producer[1].tensor, consumer[0].tensor)
            let width = weight.shape[0], fanIn = weight.count / width, inputs = next.count / next.shape[0]
            weight.storage.withUnsafeMutableBufferPointer { w in for u in 0..<width where !units.contains(u) { for t in 0..<fanIn { w[u * fanIn + t] = 0 } } }
            bias.storage.withUnsafeMutableBufferPointer { b in for u in 0..<width where !units.contains(u) { b[u] = 0 } }
            next.storage.withUnsafeMutableBufferPointer { w in
                for o in 0..<next.shape[0] {
                    for u in 0..<width where !units.contains(u) { for t in (u * junction.block)..<((u + 1) * junction.block) { w[o * inputs + t] = 0 } }
                }
            }
        }
        var generator = SplitMix64(seed: 12)
        let x = Tensor.uniform([4, 2 * 8 * 8], low: -2, high: 2, using: &generator)
        #expect(allClose(try pruned(x).scalars, try masked(x).scalars, tolerance: 1e-5))
        let (conv1, conv2) = (pruned.layers[1] as! Conv2d, pruned.layers[4] as! Conv2d)
        #expect(conv1.weight.shape == Shape([3, 2, 3, 3]) && conv2.weight.shape == Shape([3, 3, 3, 3]) && conv2.padding == 1)
        #expect((pruned.layers[8] as! Linear).weight.shape == Shape([4, 3 * 4]))
        #expect(pruned.parameterCount == (3 * 2 * 9 + 3) + (3 * 3 * 9 + 3) + (12 * 4 + 4) + (4 * 3 + 3))
        #expect(dense.parameters.map(\.scalars) == Self.cnn().parameters.map(\.scalars))
        // Multiply-adds: each convolution's kernel at every output position, each linear weight once.
        #expect(MultiplyAdds.count(dense, input: [128]) == (6 * 2 * 9 * 64 + 5 * 6 * 9 * 16 + 20 * 7 + 7 * 3, [3]))
        #expect(MultiplyAdds.count(pruned, input: [128]).multiplyAdds == 3 * 2 * 9 * 64 + 3 * 3 * 9 * 16 + 12 * 4 + 4 * 3)
    }

    @Test("Removing attention heads computes what zeroing their output columns computes; removing feed-forward neurons what zeroing their contract columns computes")
    func headsAndFeedForward() throws {
        func layer() -> TransformerEncoderLayer {
            var generator = SplitMix64(seed: 21)
            return TransformerEncoderLayer(width: 12, heads: 4, feedForward: 10, using: &generator)
        }
        let (pruned, masked) = (layer(), layer())
        let heads = StructuredPruning.strongest(pruned.attention.headImportance(), fraction: 0.5)
        let neurons = StructuredPruning.strongest(pruned.feedForwardImportance(), fraction: 0.6)
        #expect(heads.count == 2 && neurons.count == 6)
        try pruned.attention.removeHeads(keeping: heads)
        try pruned.removeFeedForwardNeurons(keeping: neurons)
        #expect(pruned.attention.heads == 2 && pruned.attention.innerWidth == 6 && pruned.expand.weight.shape == [6, 12])
        masked.attention.output.weight.storage.withUnsafeMutableBufferPointer { w in
            for o in 0..<12 { for h in 0..<4 where !heads.contains(h) { for c in (h * 3)..<((h + 1) * 3) { w[o * 12 + c] = 0 } } }
        }
        masked.contract.weight.storage.withUnsafeMutableBufferPointer { w in
            for o in 0..<12 { for j in 0..<10 where !neurons.contains(j) { w[o * 10 + j] = 0 } }
        }
        var generator = SplitMix64(seed: 22)
        let x = Tensor.uniform([2, 5, 12], low: -1, high: 1, using: &generator)
        #expect(allClose(try pruned(x).scalars, try masked(x).scalars, tolerance: 1e-5))
        // A head's importance is its value rows' norm times its output columns' norm.
        let d = 3, value = masked.attention.value.weight.scalars, output = layer().attention.output.weight.scalars
        let valueRows: [Float] = Array(value[0..<(d * 12)])
        var outputColumns: [Float] = []
        for o in 0..<12 { outputColumns += output[(o * 12)..<(o * 12 + d)] }
        let expected = valueRows.map { $0 * $0 }.reduce(0, +).squareRoot() * outputColumns.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(abs(layer().attention.headImportance()[0] - expected) <= 1e-5 * expected)
        #expect(throws: TensorError.self) { try layer().attention.removeHeads(keeping: [4]) }
        #expect(throws: TensorError.self) { try layer().removeFeedForwardNeurons(keeping: []) }
    }

    @Test("A residual block ends a chain: its channels are tied to its input's by the skip")
    func residualBlocksAreNotPruned() throws {
        let architecture = ImageClassifierArchitecture(
            family: .cnn, hidden: [5], blocks: [.init(channels: 4, kernel: 3), .init(channels: 6, kernel: 3)], residual: true)
        let model = architecture.make(imageShape: [1, 8, 8], classes: 3, seed: 1).model
        let junctions = StructuredPruning.junctions(model)
        #expect(junctions.allSatisfy { !(model.layers[$0.producer] is Residual) && !(model.layers[$0.consumer] is Residual) })
        #expect(junctions.count == 1, "only the head's hidden neurons: \(junctions)")
    }

    @Test("Importance ranks a neuron by its incoming and outgoing weights, and is unchanged by rescaling through a ReLU")
    func importance() throws {
        let model = Self.mlp()
        let junction = StructuredPruning.junctions(model)[0]
        let before = StructuredPruning.importance(model, at: junction)
        let (producer, consumer) = (model.layers[junction.producer] as! Linear, model.layers[junction.consumer] as! Linear)
        // Neuron 2's row × 4 and column ÷ 4: the same function, the same importance.
        producer.weight.storage.withUnsafeMutableBufferPointer { w in for t in 0..<12 { w[2 * 12 + t] *= 4 } }
        producer.bias!.storage.withUnsafeMutableBufferPointer { $0[2] *= 4 }
        consumer.weight.storage.withUnsafeMutableBufferPointer { w in for o in 0..<7 { w[o * 9 + 2] /= 4 } }
        let after = StructuredPruning.importance(model, at: junction)
        #expect(abs(after[2] - before[2]) <= 1e-5 * before[2])
        #expect(throws: TensorError.self) { try StructuredPruning.removing(model, keeping: [[0, 0], [1]]) }
        #expect(throws: TensorError.self) { try StructuredPruning.removing(model, keeping: [[9], [1]]) }
        #expect(throws: TensorError.self) { try StructuredPruning.removing(model, keeping: [[1]]) }
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
