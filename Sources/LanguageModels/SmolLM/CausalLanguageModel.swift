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
                let values = try logProbabilities(of: targets, at: rows, in: hidden)
                for (value, owner) in zip(values, owners) { totals[owner] += value }
            }
            return totals
        }
    }

    /// log p(continuation | prefix + context) for every context × continuation pair, in
    /// nats: [context][continuation].
    ///
    /// Two levels of reuse, as classification with verbalizers needs: the shared `prefix` is
    /// run once; each context then extends a copy of its cache once; and the continuations
    /// (one per class) run as one batch on that context's cache.
    public func logLikelihoods(prefix: [Int], contexts: [[Int]], continuations: [[Int]]) throws(TensorError) -> [[Double]] {
        try logLikelihoods(after: run(prefix: prefix), contexts: contexts, continuations: continuations)
    }

    /// Runs `prefix` once, for `logLikelihoods(after:…)` to continue as often as needed:
    /// a prompt's instruction and demonstrations, kept across batches of texts.
    public func run(prefix: [Int]) throws(TensorError) -> RunPrefix {
        try withNoGrad { () throws(TensorError) -> RunPrefix in
            let cache = model.makeCache()
            guard !prefix.isEmpty else { return RunPrefix(tokens: prefix, cache: cache, last: nil) }
            let hidden = try model.hiddenStates(model.embed(prefix, batch: 1, length: prefix.count), cache: cache)
            return RunPrefix(tokens: prefix, cache: cache, last: try hidden.sliced(axis: 1, (prefix.count - 1)..<prefix.count))
        }
    }

    /// `logLikelihoods(prefix:contexts:continuations:)` after a prefix already run.
    public func logLikelihoods(after prefix: RunPrefix, contexts: [[Int]], continuations: [[Int]]) throws(TensorError) -> [[Double]] {
        guard !prefix.tokens.isEmpty || contexts.allSatisfy({ !$0.isEmpty }) else {
            throw TensorError(.invalidArgument("scoring needs a prefix or non-empty contexts"))
        }
        guard !continuations.isEmpty, continuations.allSatisfy({ !$0.isEmpty }) else {
            throw TensorError(.invalidArgument("every continuation needs a token"))
        }
        if continuations.allSatisfy({ $0.count == 1 }) && contexts.allSatisfy({ !$0.isEmpty }) {
            // One-token verbalizers need only each context's last logits: run the contexts
            // side by side, padded, in batches big enough for efficient matrix products.
            let tokens = continuations.map { $0[0] }
            var rows: [[Double]] = []
            for start in stride(from: 0, to: contexts.count, by: Self.contextBatch) {
                let chunk = Array(contexts[start..<Swift.min(contexts.count, start + Self.contextBatch)])
                rows += try lastLogProbabilities(of: tokens, after: prefix, contexts: chunk)
            }
            return rows
        }
        return try withNoGrad { () throws(TensorError) -> [[Double]] in
            try contexts.map { context throws(TensorError) -> [Double] in
                let cache = prefix.cache.branch()
                var last = prefix.last
                if !context.isEmpty {
                    let hidden = try model.hiddenStates(model.embed(context, batch: 1, length: context.count), cache: cache)
                    last = try hidden.sliced(axis: 1, (context.count - 1)..<context.count)
                }
                return try scoreContinuations(continuations, after: last!, cache: cache)
            }
        }
    }

    /// Contexts run side by side by `lastLogProbabilities`: enough rows for the matrix
    /// products to be efficient, few enough that the repeated prefix cache stays small.
    static let contextBatch = 16

    /// log p(token | prefix + context) [context][token] for non-empty contexts run as one
    /// right-padded batch on copies of the prefix's cache. Padding comes after each context's
    /// real tokens, so the causal mask keeps it out of what those tokens see.
    private func lastLogProbabilities(of tokens: [Int], after prefix: RunPrefix, contexts: [[Int]]) throws(TensorError) -> [[Double]] {
        try withNoGrad { () throws(TensorError) -> [[Double]] in
            let batch = TokenBatch(contexts, padID: 0)
            let cache = try prefix.cache.repeated(contexts.count)
            let hidden = try model.hiddenStates(model.embed(batch.ids, batch: batch.count, length: batch.length), cache: cache)
            let flat = try hidden.reshaped(to: [batch.count * batch.length, model.config.width])
            let last = contexts.indices.map { $0 * batch.length + contexts[$0].count - 1 }
            let logProbabilities = try model.logits(flat.embedding(last)).logSoftmax()
            let vocabulary = model.config.vocabularySize
            return logProbabilities.storage.withUnsafeBufferPointer { values in
                contexts.indices.map { row in tokens.map { Double(values[row * vocabulary + $0]) } }
            }
        }
    }

    /// Sums of log-probabilities of `continuations` following the tokens in `cache`, whose
    /// last hidden state is `last` ([1, 1, width]).
    private func scoreContinuations(_ continuations: [[Int]], after last: Tensor, cache: KVCache) throws(TensorError) -> [Double] {
        let first = try model.logits(last).logSoftmax()
        var totals = continuations.map { continuation in Double(first.storage.withUnsafeBufferPointer { $0[continuation[0]] }) }
        let inputs = continuations.map { Array($0.dropLast()) }
        let length = inputs.map(\.count).max() ?? 0
        guard length > 0 else { return totals }
        let batch = TokenBatch(inputs, padID: 0)
        let hidden = try model.hiddenStates(model.embed(batch.ids, batch: continuations.count, length: length), cache: cache.repeated(continuations.count))
        var rows: [Int] = [], targets: [(owner: Int, token: Int)] = []
        for (index, continuation) in continuations.enumerated() {
            for j in 1..<Swift.max(1, continuation.count) {
                rows.append(index * length + j - 1)
                targets.append((index, continuation[j]))
            }
        }
        let values = try logProbabilities(of: targets.map(\.token), at: rows, in: hidden)
        for (value, target) in zip(values, targets) { totals[target.owner] += value }
        return totals
    }

    /// log p(targets[k]) at row rows[k] of hidden states [B, T, width] (rows of the
    /// flattened [B·T, width]): logits are computed for those rows only.
    private func logProbabilities(of targets: [Int], at rows: [Int], in hidden: Tensor) throws(TensorError) -> [Double] {
        let vocabulary = model.config.vocabularySize
        let flat = try hidden.reshaped(to: [hidden.count / model.config.width, model.config.width])
        let logProbabilities = try model.logits(flat.embedding(rows)).logSoftmax()
        return logProbabilities.storage.withUnsafeBufferPointer { values in
            targets.enumerated().map { Double(values[$0.offset * vocabulary + $0.element]) }
        }
    }
}
