import Foundation
import Runtime
import NN
import OrreryTestSupport
import Tensor
import Testing

@Suite("Layers and weights on disk")
struct LayerTests {
    @Test("Linear computes x·Wᵀ + b and its gradients match finite differences")
    func linear() throws {
        var generator = SplitMix64(seed: 3)
        let x = Tensor.uniform([4, 3], low: -1, high: 1, using: &generator)
        let w = Tensor.uniform([5, 3], low: -1, high: 1, using: &generator)
        let b = Tensor.uniform([5], low: -1, high: 1, using: &generator)
        let y = try Linear(weight: w, bias: b)(x)
        let manual = try x.matmul(w.transposed()) + b
        #expect(allClose(y.scalars, manual.scalars))
        let mismatches = try GradientCheck.mismatches([x, w, b]) { try Linear(weight: $0[1], bias: $0[2])($0[0]).tanh() }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")
    }

    @Test("an MLP names its parameters like PyTorch's nn.Sequential and is the same for the same seed")
    func mlpNames() {
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        let first = MLP.make([784, 256, 10], using: &a), second = MLP.make([784, 256, 10], using: &b)
        #expect(first.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(first.parameterCount == 784 * 256 + 256 + 256 * 10 + 10)
        #expect(first.parameters.map(\.scalars) == second.parameters.map(\.scalars))
    }

    @Test("safetensors: save, load into another model, same outputs; the file has the standard layout")
    func safetensorsRoundTrip() throws {
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 2)
        let model = MLP.make([6, 5, 3], using: &a), other = MLP.make([6, 5, 3], using: &b)
        let path = "\(NSTemporaryDirectory())/orrery-\(UInt32.random(in: 0...UInt32.max)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.save(model.namedParameters(), to: path, metadata: ["format": "pt"])
        try Safetensors.load(path, into: other)
        let x = Tensor.full(0.5, [2, 6])
        #expect(try model(x).scalars == other(x).scalars)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: bytes[8..<(8 + headerLength)]) as! [String: Any]
        let entry = try #require(header["0.weight"] as? [String: Any])
        #expect(entry["dtype"] as? String == "F32")
        #expect(entry["shape"] as? [Int] == [5, 6])
        #expect((8 + headerLength) % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 4 * model.parameterCount)
    }

    @Test("a truncated or mismatched weights file fails naming the path and the tensor")
    func badWeightFiles() throws {
        var generator = SplitMix64(seed: 1)
        let model = MLP.make([6, 5, 3], using: &generator)
        let path = "\(NSTemporaryDirectory())/orrery-bad-\(UInt32.random(in: 0...UInt32.max)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.save(model.namedParameters(), to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 10).write(to: URL(fileURLWithPath: path))
        let truncated = #expect(throws: TensorError.self) { try Safetensors.load(path) }
        #expect(truncated?.description.hasPrefix(path) == true)
        #expect(truncated?.description.contains("0.") == true || truncated?.description.contains("2.") == true)

        try Safetensors.save(model.namedParameters(), to: path)
        let wider = MLP.make([6, 7, 3], using: &generator)
        let mismatch = #expect(throws: TensorError.self) { try Safetensors.load(path, into: wider) }
        #expect(mismatch?.description.contains("'0.weight' is [5, 6] in the file, [7, 6] in the model") == true)
        let missing = #expect(throws: TensorError.self) { try Safetensors.load("/nonexistent/w.safetensors") }
        #expect(missing?.description.hasPrefix("/nonexistent/w.safetensors") == true)
    }
}

@Suite("Flat parameter buffer")
struct FlatParametersTests {
    @Test("gradients gather into one buffer and scatter back unchanged; buckets cover it on parameter boundaries")
    func roundTrip() throws {
        var generator = SplitMix64(seed: 4)
        let model = MLP.make([5, 4, 3], using: &generator)
        let x = Tensor.uniform([2, 5], using: &generator)
        try Tensor.crossEntropy(logits: model(x), targets: [0, 2]).backward()
        let flat = FlatParameters(model)
        #expect(flat.count == model.parameterCount)
        let gathered = flat.gatherGradients()
        #expect(gathered == model.parameters.flatMap { $0.grad!.scalars })
        try flat.scatterGradients(gathered.map { $0 * 0.5 })
        #expect(model.parameters.flatMap { $0.grad!.scalars } == gathered.map { $0 * 0.5 })
        let buckets = flat.buckets(maxElements: 20)
        #expect(buckets.first?.lowerBound == 0 && buckets.last?.upperBound == flat.count)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(buckets.allSatisfy { bucket in flat.ranges.contains { $0.upperBound == bucket.upperBound } })
        #expect(throws: TensorError.self) { try flat.scatterGradients([1, 2]) }
    }

    @Test("values scatter into the parameters in place")
    func values() throws {
        var generator = SplitMix64(seed: 5)
        let model = MLP.make([3, 2], using: &generator)
        let flat = FlatParameters(model)
        try flat.scatterValues((0..<flat.count).map(Float.init))
        #expect(model.parameters[0].scalars == [0, 1, 2, 3, 4, 5])
        #expect(flat.gatherValues() == (0..<flat.count).map(Float.init))
    }

    @Test("two leaves fed by one add get gradients of their own")
    func noSharedGradients() throws {
        let a = Tensor.full(1, [3]).requiringGrad(), b = Tensor.full(2, [3]).requiringGrad()
        try (a + b).sum().backward()
        a.grad!.storage.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(b.grad!.scalars == [1, 1, 1])
    }
}

@Suite("Weights other tools read")
struct InteroperabilityTests {
    @Test("Python's safetensors package reads what Orrery writes: names, dtypes, shapes and values")
    func pythonReadsSafetensors() throws {
        let root = PackageRoot.url
        let python = ProcessInfo.processInfo.environment["ORRERY_TEST_PYTHON"] ?? root.appendingPathComponent(".venv-test/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "no Python with safetensors at \(python); run scripts/test")
        var generator = SplitMix64(seed: 6)
        let model = MLP.make([7, 5, 3], using: &generator)
        let path = "\(NSTemporaryDirectory())/orrery-py-\(UInt32.random(in: 0...UInt32.max)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.save(model.namedParameters(), to: path)

        let output = "\(path).json"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let reader = try ChildProcess(
            executable: python, arguments: [root.appendingPathComponent("scripts/read-safetensors.py").path, path],
            standardOutput: .file(output), standardError: .file(output + ".err"))
        #expect(reader.wait(timeoutMilliseconds: 60_000) == 0, "\((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "")")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: [String: Any]])
        #expect(Set(read.keys) == Set(model.namedParameters().map(\.name)))
        for (name, tensor) in model.namedParameters() {
            #expect(read[name]?["dtype"] as? String == "float32")
            #expect(read[name]?["shape"] as? [Int] == tensor.shape.dimensions)
            let sum = tensor.scalars.reduce(0.0) { $0 + Double($1) }
            #expect(abs((read[name]?["sum"] as? Double ?? .nan) - sum) < 1e-5)
        }
    }
}
