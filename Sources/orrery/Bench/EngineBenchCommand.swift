import ArgumentParser
import Foundation
import NN
import Runtime
import Tensor

/// `orrery bench engine`: the tensor engine's speed on the rows PyTorch is compared on
/// (scripts/bench/engine runs both, at 1 and 2 threads, side by side).
struct EngineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "sgemm GFLOP/s, MLP training steps/s, Adam steps/s, encoder-layer sequences/s (threads: ORRERY_THREADS, OPENBLAS_NUM_THREADS).")

    @Option(name: .long, help: "Timed runs of each measurement; the median is reported.")
    var repeats = 5

    @Option(name: .long, help: "Only rows whose name contains this text, e.g. 'encoder'.")
    var filter: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
        var cases: [(name: String, unit: String, body: () throws -> Double)] = []
        for n in [256, 512, 1024, 2048] { cases.append(("sgemm \(n)", "GFLOP/s", { try sgemm(n) })) }
        for batch in [64, 256] { cases.append(("mlp train step, batch \(batch)", "samples/s", { try mlpSteps(batch: batch) })) }
        cases.append(("adam step, mlp 784-256-256-10", "steps/s", { try adamSteps() }))
        cases.append(("encoder layer forward", "sequences/s", { try encoder(backward: false) }))
        cases.append(("encoder layer forward+backward", "sequences/s", { try encoder(backward: true) }))
        let rows = try cases.filter { filter.map($0.name.contains) ?? true }.map { try BenchmarkOutput.measure(repeats: repeats, $0.name, unit: $0.unit, $0.body) }
        try BenchmarkOutput.print(rows, json: output.json)
    }


    /// GFLOP/s of n×n·n×n products.
    private func sgemm(_ n: Int) throws -> Double {
        var generator = SplitMix64(seed: 1)
        let a = Tensor.uniform([n, n], using: &generator), b = Tensor.uniform([n, n], using: &generator)
        let iterations = max(1, 4_000_000_000 / (2 * n * n * n))
        let start = MonotonicClock.microseconds
        for _ in 0..<iterations { _ = try a.matmul(b) }
        let seconds = Double(MonotonicClock.microseconds - start) / 1e6
        return Double(iterations) * 2 * Double(n * n * n) / seconds / 1e9
    }

    /// Sequences per second through a transformer encoder layer of MiniLM's shape (width
    /// 384, 12 heads, feed-forward 1536) on batch 16 × sequence 32: forward without
    /// recording, or forward and backward of the output's sum.
    private func encoder(backward: Bool) throws -> Double {
        var generator = SplitMix64(seed: 3)
        let layer = TransformerEncoderLayer(width: 384, heads: 12, feedForward: 1536, using: &generator)
        let input = Tensor.uniform([16, 32, 384], low: -1, high: 1, using: &generator)
        let iterations = backward ? 6 : 15
        let start = MonotonicClock.microseconds
        for _ in 0..<iterations {
            if backward {
                layer.zeroGrad()
                try layer(input).sum().backward()
            } else {
                _ = try withNoGrad { () throws(TensorError) in try layer(input) }
            }
        }
        let seconds = Double(MonotonicClock.microseconds - start) / 1e6
        return Double(iterations * 16) / seconds
    }

    /// Adam steps per second over the MLP's 269,322 parameters with gradients in place: the
    /// part of a training step that does not shrink with the batch, and so the part every
    /// data-parallel rank repeats.
    private func adamSteps() throws -> Double {
        var generator = SplitMix64(seed: 4)
        let model = MLP.make([784, 256, 256, 10], using: &generator)
        for parameter in model.parameters {
            try parameter.setGrad(Tensor.uniform(parameter.shape, low: -0.01, high: 0.01, using: &generator))
        }
        let optimizer = Adam(parameters: model.parameters, learningRate: 1e-3)
        let steps = 2_000
        let start = MonotonicClock.microseconds
        for _ in 0..<steps { optimizer.step() }
        return Double(steps) / (Double(MonotonicClock.microseconds - start) / 1e6)
    }

    /// Samples per second through forward, cross-entropy, backward and an SGD-with-momentum
    /// step of an MLP 784-256-256-10, on a fixed random batch.
    private func mlpSteps(batch: Int) throws -> Double {
        var generator = SplitMix64(seed: 2)
        let model = MLP.make([784, 256, 256, 10], using: &generator)
        let optimizer = SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        let images = Tensor.uniform([batch, 784], using: &generator)
        let labels = (0..<batch).map { $0 % 10 }
        let steps = max(20, 40_000 / batch)
        let start = MonotonicClock.microseconds
        for _ in 0..<steps {
            let loss = try Tensor.crossEntropy(logits: model(images), targets: labels)
            model.zeroGrad()
            try loss.backward()
            optimizer.step()
        }
        let seconds = Double(MonotonicClock.microseconds - start) / 1e6
        return Double(steps * batch) / seconds
    }
}
