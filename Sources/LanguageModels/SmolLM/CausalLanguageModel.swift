import Datasets
import Foundation
import NN
import Tensor

/// A pretrained causal language model ready to use: SmolLM2-135M-Instruct's GGUF file read
/// into its tokenizer, chat template and `LlamaModel`. Generates text and scores
/// continuations (the primitive prompt search needs).
public final class CausalLanguageModel: @unchecked Sendable {
    public let tokenizer: ByteLevelBPETokenizer
    public let model: LlamaModel
    public let chat = ChatTemplate()
    public let path: String

    public init(path: String, mode: WeightMode = .dequantized, layerLimit: Int? = nil) throws(ModelFileError) {
        guard FileManager.default.fileExists(atPath: path) else { throw ModelFileError(path: path, "missing: run scripts/fetch-data") }
        let file: GGUFFile
        do throws(TensorError) { file = try GGUFFile(path: path) } catch { throw ModelFileError(error, fallbackPath: path) }
        tokenizer = try ByteLevelBPETokenizer(gguf: file)
        model = try LlamaModel(file: file, mode: mode, layerLimit: layerLimit)
        self.path = path
    }

    /// The default cached copy fetched by `scripts/fetch-data`.
    public static var defaultPath: String { DataCache.path("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") }

    /// Generates up to `maxTokens` tokens after `prompt` (ids), stopping at the end-of-turn
    /// token; `onToken` sees each new id and may return false to stop early.
    public func generate(
        _ prompt: [Int], maxTokens: Int, sampler: Sampler = Sampler(), onToken: (Int) -> Bool = { _ in true }
    ) throws(TensorError) -> [Int] {
        guard !prompt.isEmpty else { throw TensorError(.invalidArgument("generation needs a prompt of at least one token")) }
        var sampler = sampler
        return try withNoGrad { () throws(TensorError) -> [Int] in
            let cache = model.makeCache()
            var input = prompt
            var generated: [Int] = []
            while generated.count < maxTokens {
                let hidden = try model.hiddenStates(model.embed(input, batch: 1, length: input.count), cache: cache)
                let last = try hidden.sliced(axis: 1, (input.count - 1)..<input.count)
                let next = try model.logits(last).storage.withUnsafeBufferPointer { sampler.next($0) }
                generated.append(next)
                if next == tokenizer.endID || !onToken(next) { break }
                input = [next]
            }
            return generated
        }
    }

    /// log p(continuation | prefix + context) for each item, in nats, summed over the
    /// continuation's tokens.
    ///
    /// The shared `prefix` (instruction and demonstrations) is run once and its keys and
    /// values are reused by every item (`reusePrefix`); the items then run as one batch.
    /// With `reusePrefix: false` every item runs prefix + context + continuation from
    /// scratch, which is what the cache saves.
    public func logLikelihoods(
        prefix: [Int], items: [(context: [Int], continuation: [Int])], reusePrefix: Bool = true
    ) throws(TensorError) -> [Double] {
        guard !prefix.isEmpty else { throw TensorError(.invalidArgument("scoring needs a non-empty shared prefix")) }
        guard items.allSatisfy({ !$0.continuation.isEmpty }) else { throw TensorError(.invalidArgument("every continuation needs a token")) }
        guard reusePrefix else {
            return try items.map { item throws(TensorError) in
                try logLikelihoods(prefix: prefix + item.context, items: [([], item.continuation)])[0]
            }
        }
        return try withNoGrad { () throws(TensorError) -> [Double] in
            let cache = model.makeCache()
            let prefixHidden = try model.hiddenStates(model.embed(prefix, batch: 1, length: prefix.count), cache: cache)
            let prefixLast = try model.logits(prefixHidden.sliced(axis: 1, (prefix.count - 1)..<prefix.count)).logSoftmax()
            // Each item's tokens after the prefix, but the last (which nothing follows).
            let sequences = items.map { $0.context + $0.continuation }
            let inputs = sequences.map { Array($0.dropLast()) }
            let length = inputs.map(\.count).max() ?? 0
            var hidden: Tensor?
            if length > 0 {
                let batch = TokenBatch(inputs, padID: 0)
                hidden = try model.hiddenStates(model.embed(batch.ids, batch: items.count, length: length), cache: cache.repeated(items.count))
            }
            // Rows of `hidden` (flattened [B·T, width]) whose logits score a continuation token.
            var rows: [Int] = [], targets: [Int] = [], owners: [Int] = []
            var totals = [Double](repeating: 0, count: items.count)
            for (index, item) in items.enumerated() {
                for j in item.context.count..<sequences[index].count {
                    let target = sequences[index][j]
                    if j == 0 {
                        totals[index] += Double(prefixLast.storage.withUnsafeBufferPointer { $0[target] })
                    } else {
                        rows.append(index * length + j - 1)
                        targets.append(target)
                        owners.append(index)
                    }
                }
            }
            if let hidden, !rows.isEmpty {
                let flat = try hidden.reshaped(to: [items.count * length, model.config.width])
                let logProbabilities = try model.logits(flat.embedding(rows)).logSoftmax()
                let vocabulary = model.config.vocabularySize
                logProbabilities.storage.withUnsafeBufferPointer { values in
                    for (k, (target, owner)) in zip(targets, owners).enumerated() { totals[owner] += Double(values[k * vocabulary + target]) }
                }
            }
            return totals
        }
    }
}
