import Foundation
import NN
import Tensor
import Testing

@Suite("int8 checkpoints")
struct Int8CheckpointTests {
    @Test("Saved in int8, loaded into a fresh model and quantized: the same int8 values and outputs, in about a quarter of the bytes")
    func roundTrip() throws {
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 2)
        let model = MLP.make([400, 128, 10], using: &a), fresh = MLP.make([400, 128, 10], using: &b)
        let data = try Int8Checkpoint.encode(model.namedParameters())
        let float = try Safetensors.encode(model.namedParameters())
        #expect(Double(data.count) * 3.8 < Double(float.count))
        try Int8Checkpoint.load(data, source: "int8", into: fresh)
        try model.quantizeToInt8()
        try fresh.quantizeToInt8()
        for (original, loaded) in zip(model.layers.compactMap { $0 as? Linear }, fresh.layers.compactMap { $0 as? Linear }) {
            #expect(original.int8Weight?.values == loaded.int8Weight?.values)
            #expect(original.bias?.scalars == loaded.bias?.scalars)
        }
        var generator = SplitMix64(seed: 3)
        let x = Tensor.uniform([5, 400], low: -1, high: 1, using: &generator)
        #expect(try model(x).scalars == fresh(x).scalars)
    }

    @Test("A float file, a wrong shape and a missing tensor are refused by name")
    func refusals() throws {
        var a = SplitMix64(seed: 1)
        let model = MLP.make([4, 3, 2], using: &a)
        let float = try Safetensors.encode(model.namedParameters())
        #expect(throws: TensorError.self) { try Int8Checkpoint.load(float, source: "f", into: model) }
        let data = try Int8Checkpoint.encode(model.namedParameters())
        var b = SplitMix64(seed: 1)
        #expect(throws: TensorError.self) { try Int8Checkpoint.load(data, source: "x", into: MLP.make([4, 5, 2], using: &b)) }
        let partial = try Int8Checkpoint.encode(Array(model.namedParameters().prefix(2)))
        #expect(throws: TensorError.self) { try Int8Checkpoint.load(partial, source: "p", into: model) }
    }
}
