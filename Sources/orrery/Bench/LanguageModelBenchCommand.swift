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

    @OptionGroup var output: OutputOptions

    /// The fixed token ids both systems run: deterministic, inside the vocabulary, no
    /// special tokens in the middle.
    static func syntheticIDs(count: Int, salt: Int, vocabulary: Int, first: Int) -> [Int] {
        (0..<count).map { first + (($0 * 7919 + salt * 104_729) % (vocabulary - first)) }
    }

    func run() throws {
        let wanted = { (name: String) in filter.map(name.contains) ?? true }
        var rows: [BenchmarkOutput.Row] = []
        let minilmRow = "minilm embed, batch 16 x 32 tokens"
        let prefillRow = "smollm2 prefill, 128 tokens", decodeRow = "smollm2 decode, 64 tokens after 32"
        if wanted(minilmRow) {
            let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
            // 16 sequences of [CLS] + 30 word pieces + [SEP].
            let sequences = (0..<16).map { [101] + Self.syntheticIDs(count: 30, salt: $0, vocabulary: 30522, first: 1996) + [102] }
            let batch = TokenBatch(sequences, padID: 0)
            rows.append(try BenchmarkOutput.measure(repeats: repeats, minilmRow, unit: "sentences/s") {
                let start = MonotonicClock.microseconds
                let iterations = 4
                for _ in 0..<iterations {
                    _ = try withNoGrad { () throws(TensorError) in try encoder.encode(encoder.model.embed(batch), lengths: batch.lengths) }
                }
                return Double(iterations * 16) / (Double(MonotonicClock.microseconds - start) / 1e6)
            })
        }
        let reuseRow = "smollm2 score, shared prefix cached", recomputeRow = "smollm2 score, prefix recomputed"
        if [prefillRow, decodeRow, reuseRow, recomputeRow].contains(where: wanted) {
            let lm = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, mode: weights)
            let model = lm.model
            let prompt = Self.syntheticIDs(count: 128, salt: 1, vocabulary: 49152, first: 17)
            if wanted(prefillRow) { rows.append(try BenchmarkOutput.measure(repeats: repeats, prefillRow, unit: "tokens/s") {
                let start = MonotonicClock.microseconds
                try withNoGrad { () throws(TensorError) in
                    let hidden = try model.hiddenStates(model.embed(prompt, batch: 1, length: prompt.count))
                    _ = try model.logits(hidden.sliced(axis: 1, 127..<128))
                }
                return 128 / (Double(MonotonicClock.microseconds - start) / 1e6)
            }) }
            if wanted(decodeRow) { rows.append(try BenchmarkOutput.measure(repeats: repeats, decodeRow, unit: "tokens/s") {
                let context = Array(prompt.prefix(32))
                var decodeStart: Int64 = 0
                let generated = try lm.generate(context, maxTokens: 65, sampler: Sampler(temperature: 0)) { _ in
                    if decodeStart == 0 { decodeStart = MonotonicClock.microseconds }
                    return true
                }
                // The first token comes from the prefill; the next 64 are decode steps.
                return Double(generated.count - 1) / (Double(MonotonicClock.microseconds - decodeStart) / 1e6)
            }) }
        }
        if wanted(reuseRow) || wanted(recomputeRow) {
            // Prompt scoring's shape: a 96-token instruction with demonstrations shared by 16
            // items of a 16-token text and a 2-token label each (rows without a peer: Orrery only).
            let lm = try CausalLanguageModel(path: CausalLanguageModel.defaultPath, mode: weights)
            let prefix = Self.syntheticIDs(count: 96, salt: 2, vocabulary: 49152, first: 17)
            let items = (0..<16).map { (context: Self.syntheticIDs(count: 16, salt: 10 + $0, vocabulary: 49152, first: 17), continuation: [3000 + $0, 42]) }
            for (row, reuse) in [(reuseRow, true), (recomputeRow, false)] where wanted(row) {
                rows.append(try BenchmarkOutput.measure(repeats: repeats, row, unit: "items/s") {
                    let start = MonotonicClock.microseconds
                    _ = try lm.logLikelihoods(prefix: prefix, items: items, reusePrefix: reuse)
                    return Double(items.count) / (Double(MonotonicClock.microseconds - start) / 1e6)
                })
            }
        }
        if output.json {
            try BenchmarkOutput.printJSON(rows)
        } else {
            for row in rows { print(row.name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %10.1f ", row.median) + row.unit) }
        }
    }

}
