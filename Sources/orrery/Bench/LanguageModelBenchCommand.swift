import ArgumentParser
import Foundation
import LanguageModels
import Runtime
import Tensor

/// `orrery bench lm`: the pretrained models' speed on the rows PyTorch is compared on
/// (scripts/bench/lm runs both side by side; scripts/bench/peers/torch_lm.py builds the same
/// architectures in plain PyTorch from the same files).
struct LanguageModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "MiniLM sentences/s (batch 16 × 32 tokens); SmolLM2 prefill and decode tokens/s (threads: ORRERY_THREADS, OPENBLAS_NUM_THREADS).")

    @Option(name: .long, help: "Timed runs of each measurement; the median is reported.")
    var repeats = 5

    @Option(name: .long, help: "Only rows whose name contains this text, e.g. 'smollm2'.")
    var filter: String?

    @Option(help: "SmolLM2 weights: dequantized or quantized.")
    var weights: WeightMode = .dequantized

    @Option(help: "Integer code for quantized products, at most this: vnni, avx2 or portable (default: the best the CPU has).")
    var kernel: QuantizedKernel?

    @OptionGroup var output: OutputOptions

    /// The fixed token ids both systems run: deterministic, inside the vocabulary, no
    /// special tokens in the middle.
    static func syntheticIDs(count: Int, salt: Int, vocabulary: Int, first: Int) -> [Int] {
        (0..<count).map { first + (($0 * 7919 + salt * 104_729) % (vocabulary - first)) }
    }

    func run() throws {
        if let kernel { QuantizedKernel.cap(kernel) }
        var cases: [(name: String, unit: String, body: () throws -> Double)] = []
        // Models load lazily, once, and only when one of their rows is wanted.
        var encoder: SentenceEncoder?
        var lm: CausalLanguageModel?
        func minilm() throws -> SentenceEncoder {
            if encoder == nil { encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory) }
            return encoder!
        }
        func smollm() throws -> CausalLanguageModel {
            if lm == nil { lm = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, mode: weights) }
            return lm!
        }
        func rate(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
            let start = MonotonicClock.microseconds
            try body()
            return Double(count) / (Double(MonotonicClock.microseconds - start) / 1e6)
        }

        // 16 sequences of [CLS] + 30 word pieces + [SEP].
        let sequences = (0..<16).map { [101] + Self.syntheticIDs(count: 30, salt: $0, vocabulary: 30522, first: 1996) + [102] }
        let batch = TokenBatch(sequences, padID: 0)
        var int8Encoder: SentenceEncoder?
        func minilmInt8() throws -> SentenceEncoder {
            if int8Encoder == nil {
                int8Encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
                try int8Encoder!.model.quantizeToInt8()
            }
            return int8Encoder!
        }
        for (name, load) in [("minilm embed, batch 16 x 32 tokens", minilm), ("minilm embed int8, batch 16 x 32 tokens", minilmInt8)] {
            cases.append((name, "sentences/s", {
                let encoder = try load()
                return try rate(4 * 16) {
                    for _ in 0..<4 {
                        _ = try withNoGrad { () throws(TensorError) in try encoder.encode(encoder.model.embed(batch), lengths: batch.lengths) }
                    }
                }
            }))
        }
        let prompt = Self.syntheticIDs(count: 128, salt: 1, vocabulary: 49152, first: 17)
        cases.append(("smollm2 prefill, 128 tokens", "tokens/s", {
            let model = try smollm().model
            return try rate(128) {
                try withNoGrad { () throws(TensorError) in
                    let hidden = try model.hiddenStates(model.embed(prompt, batch: 1, length: prompt.count))
                    _ = try model.logits(hidden.sliced(axis: 1, 127..<128))
                }
            }
        }))
        cases.append(("smollm2 decode, 64 tokens after 32", "tokens/s", {
            var decodeStart: Int64 = 0
            let generated = try smollm().generate(Array(prompt.prefix(32)), maxTokens: 65, sampler: Sampler(temperature: 0)) { _ in
                if decodeStart == 0 { decodeStart = MonotonicClock.microseconds }
                return true
            }
            // The first token comes from the prefill; the next 64 are decode steps.
            return Double(generated.count - 1) / (Double(MonotonicClock.microseconds - decodeStart) / 1e6)
        }))
        // Decoding reads every weight once per token: its bytes beside a plain read of memory
        // (the bound decode speed meets) give the bandwidth decode achieves.
        cases.append(("smollm2 weight bytes read per token", "MB", { Double(try smollm().model.weightBytes) / 1e6 }))
        cases.append(("memory read, 1 GiB summed", "GB/s", { Self.readBandwidth(bytes: 1 << 30) }))
        // Prompt scoring's shape: a 96-token instruction with demonstrations shared by 16 items
        // of a 16-token text and a 2-token label each (rows without a peer: Orrery only).
        let prefix = Self.syntheticIDs(count: 96, salt: 2, vocabulary: 49152, first: 17)
        let items = (0..<16).map { (context: Self.syntheticIDs(count: 16, salt: 10 + $0, vocabulary: 49152, first: 17), continuation: [3000 + $0, 42]) }
        for (name, reuse) in [("smollm2 score, shared prefix cached", true), ("smollm2 score, prefix recomputed", false)] {
            cases.append((name, "items/s", {
                let lm = try smollm()
                return try rate(items.count) { _ = try lm.logLikelihoods(prefix: prefix, items: items, reusePrefix: reuse) }
            }))
        }
        let rows = try cases.filter { filter.map($0.name.contains) ?? true }.map {
            try BenchmarkOutput.measure(repeats: repeats, $0.name, unit: $0.unit, $0.body)
        }
        try BenchmarkOutput.print(rows, json: output.json)
    }
}

extension LanguageModelBenchCommand {
    /// GB/s of summing `bytes` of memory on the engine's threads (`ORRERY_THREADS`): the
    /// read bandwidth that bounds decoding.
    static func readBandwidth(bytes: Int) -> Double {
        let count = bytes / MemoryLayout<SIMD16<Float>>.stride
        let buffer = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: SIMD16(repeating: 1), count: count)
        nonisolated(unsafe) let data = buffer
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threadCount)
        defer { sums.deallocate() }
        nonisolated(unsafe) let partial = sums
        let start = MonotonicClock.microseconds
        let size = (count + Parallel.threadCount - 1) / Parallel.threadCount
        Parallel.run(chunks: Parallel.threadCount, threads: Parallel.threadCount) { chunk in
            var (a, b) = (SIMD16<Float>(), SIMD16<Float>())
            var i = chunk * size
            let end = Swift.min(count, i + size)
            while i + 1 < end {
                a += data[i]
                b += data[i + 1]
                i += 2
            }
            partial[chunk] = (a + b).sum()
        }
        let seconds = Double(MonotonicClock.microseconds - start) / 1e6
        precondition(sums[0] > 0)  // the reads are used
        return Double(bytes) / 1e9 / seconds
    }
}

extension QuantizedKernel: ExpressibleByArgument {}
