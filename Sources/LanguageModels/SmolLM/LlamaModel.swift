import NN
import Tensor

/// A Llama-architecture causal language model (Touvron et al. 2023) with frozen pretrained
/// weights from a GGUF file: pre-norm blocks of RMSNorm → grouped-query attention with
/// rotary positions → residual, RMSNorm → SwiGLU feed-forward → residual; a final RMSNorm
/// and an output projection tied to the token embeddings when the file has none.
///
/// Every operation is one of the engine's differentiable ops, so gradients reach the input
/// embeddings (soft prompts) while the weights stay frozen.
public final class LlamaModel: @unchecked Sendable {
    /// One transformer block's weights.
    struct Block {
        let attentionNorm: Tensor
        let query, key, value, output: FrozenMatrix
        let feedForwardNorm: Tensor
        let gate, up, down: FrozenMatrix
    }

    public let config: LlamaConfig
    public let weightMode: WeightMode
    let embeddings: FrozenMatrix
    let outputProjection: FrozenMatrix
    let blocks: [Block]
    let finalNorm: Tensor
    /// Whether the output projection is the token embedding table (SmolLM2's tied weights).
    public let tiedOutput: Bool
    /// LoRA adapters of each block's query and value projections, once attached.
    private var adapters: [(query: LowRankAdapter, value: LowRankAdapter)] = []

    /// Loads the weights of `file`; `layerLimit` keeps only the first blocks (for
    /// gradient checks on a truncated model).
    public init(file: GGUFFile, mode: WeightMode = .dequantized, layerLimit: Int? = nil) throws(ModelFileError) {
        let config = try LlamaConfig(gguf: file)
        self.config = config
        weightMode = mode
        let (w, kv, ff) = (config.width, config.keyValueHeads * config.headWidth, config.feedForward)
        do throws(TensorError) {
            func matrix(_ name: String, _ shape: [Int]) throws(TensorError) -> FrozenMatrix {
                try FrozenMatrix(file, name, shape: shape, mode: mode)
            }
            func vector(_ name: String) throws(TensorError) -> Tensor {
                let tensor = try file.tensor(name)
                guard tensor.shape == [w] else { throw TensorError(.badFile(path: file.path, detail: "'\(name)' is \(tensor.shape), expected [\(w)]")) }
                return tensor
            }
            embeddings = try matrix("token_embd.weight", [config.vocabularySize, w])
            tiedOutput = file.tensorInfos["output.weight"] == nil
            outputProjection = tiedOutput ? embeddings : try matrix("output.weight", [config.vocabularySize, w])
            finalNorm = try vector("output_norm.weight")
            blocks = try (0..<Swift.min(layerLimit ?? config.layers, config.layers)).map { (i: Int) throws(TensorError) -> Block in
                let p = "blk.\(i)."
                return Block(
                    attentionNorm: try vector(p + "attn_norm.weight"), query: try matrix(p + "attn_q.weight", [w, w]),
                    key: try matrix(p + "attn_k.weight", [kv, w]), value: try matrix(p + "attn_v.weight", [kv, w]),
                    output: try matrix(p + "attn_output.weight", [w, w]), feedForwardNorm: try vector(p + "ffn_norm.weight"),
                    gate: try matrix(p + "ffn_gate.weight", [ff, w]), up: try matrix(p + "ffn_up.weight", [ff, w]),
                    down: try matrix(p + "ffn_down.weight", [w, ff]))
            }
        } catch {
            throw ModelFileError(error, fallbackPath: file.path)
        }
    }

    /// Bytes of weights held in memory (encoded matrices count their mapped bytes).
    public var weightBytes: Int {
        let matrices = blocks.flatMap { [$0.query, $0.key, $0.value, $0.output, $0.gate, $0.up, $0.down] }
        return matrices.reduce(0) { $0 + $1.residentBytes } + embeddings.residentBytes + (tiedOutput ? 0 : outputProjection.residentBytes)
            + (blocks.count * 2 + 1) * config.width * 4
    }

    public func makeCache() -> KVCache { KVCache(layers: blocks.count) }

    /// Token embeddings [B, T, width] of a padded batch of ids.
    public func embed(_ ids: [Int], batch: Int, length: Int) throws(TensorError) -> Tensor {
        try embeddings.rows(ids, shape: [batch, length])
    }

    /// Final hidden states [B, T, width] (after the last RMSNorm) for input embeddings
    /// [B, T, width] that follow the `cache.length` tokens already in `cache`; the cache then
    /// holds them too. Without a cache the inputs start at position 0. With `checkpointed`
    /// (and no cache), each block keeps only its input for the backward pass and runs again
    /// there (`Tensor.checkpointed`).
    public func hiddenStates(_ input: Tensor, cache: KVCache? = nil, checkpointed: Bool = false) throws(TensorError) -> Tensor {
        guard input.rank == 3, input.shape[2] == config.width else {
            throw TensorError(.shapeMismatch(operation: "Llama input [B, T, \(config.width)]", input.shape, [0, 0, config.width]))
        }
        let length = input.shape[1]
        let past = cache?.length ?? 0
        guard past + length <= config.contextLength else {
            throw TensorError(.invalidArgument("\(past + length) tokens exceed the context of \(config.contextLength)"))
        }
        let rotary = RotaryTable(positions: Array(past..<(past + length)), headWidth: config.headWidth, base: config.ropeBase)
        let mask = length > 1 ? Self.causalMask(queries: length, past: past) : nil
        var x = input
        for index in blocks.indices {
            if checkpointed && cache == nil {
                let trained = adapters.isEmpty ? [] : [adapters[index].query, adapters[index].value].flatMap(\.parameters)
                x = try Tensor.checkpointed([x], parameters: trained) { (inputs) throws(TensorError) in
                    try self.block(index, inputs[0], rotary: rotary, mask: mask, cache: nil)
                }
            } else {
                x = try block(index, x, rotary: rotary, mask: mask, cache: cache)
            }
        }
        cache?.advance(by: length)
        return try x.rmsNorm(weight: finalNorm, epsilon: config.rmsEpsilon)
    }

    /// Block `index` on x [B, T, width]: attention with its residual, then the feed-forward
    /// network with its residual.
    private func block(_ index: Int, _ input: Tensor, rotary: RotaryTable, mask: Tensor?, cache: KVCache?) throws(TensorError) -> Tensor {
        let block = blocks[index]
        var x = input
        let h = try x.rmsNorm(weight: block.attentionNorm, epsilon: config.rmsEpsilon)
        var q = try block.query.apply(h)
        var v = try block.value.apply(h)
        if !adapters.isEmpty {
            q = try q + adapters[index].query.delta(h)
            v = try v + adapters[index].value.delta(h)
        }
        q = try q.rotaryEmbedding(rotary)
        var k = try block.key.apply(h).rotaryEmbedding(rotary)
        if let cache { (k, v) = try cache.append(layer: index, keys: k, values: v) }
        let attended = try Tensor.multiHeadAttention(
            query: q, key: k, value: v, heads: config.heads, keyValueHeads: config.keyValueHeads, mask: mask)
        x = try x + block.output.apply(attended)
        let f = try x.rmsNorm(weight: block.feedForwardNorm, epsilon: config.rmsEpsilon)
        return try x + block.down.apply(block.gate.apply(f).silu() * block.up.apply(f))
    }

    /// Attaches LoRA adapters to every block's query and value projections (seeded).
    public func attachAdapters(rank: Int, alpha: Float, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let (w, kv) = (config.width, config.keyValueHeads * config.headWidth)
        adapters = blocks.map { _ in
            (LowRankAdapter(inputs: w, outputs: w, rank: rank, alpha: alpha, using: &generator),
             LowRankAdapter(inputs: w, outputs: kv, rank: rank, alpha: alpha, using: &generator))
        }
    }

    /// The adapters' parameters, named as llama.cpp names the blocks' projections.
    public func adapterParameters() -> [(name: String, tensor: Tensor)] {
        adapters.enumerated().flatMap { index, pair in
            LowRankAdapter.prefixed("blk.\(index).attn_q", pair.query.namedParameters())
                + LowRankAdapter.prefixed("blk.\(index).attn_v", pair.value.namedParameters())
        }
    }

    /// Folds the adapters into the float32 weights and removes them.
    /// - Throws: when the weights are kept quantized (there is no float32 matrix to add to).
    public func mergeAdapters() throws(TensorError) {
        guard !adapters.isEmpty else { return }
        for (block, pair) in zip(blocks, adapters) {
            try block.query.add(pair.query)
            try block.value.add(pair.value)
        }
        adapters = []
    }

    /// Logits [..., vocabulary] of hidden states [..., width].
    public func logits(_ hidden: Tensor) throws(TensorError) -> Tensor { try outputProjection.apply(hidden) }

    /// Additive mask [T, past + T]: query t (at position past + t) sees keys up to itself.
    static func causalMask(queries: Int, past: Int) -> Tensor {
        let keys = past + queries
        var values = [Float](repeating: 0, count: queries * keys)
        for t in 0..<queries { for j in (past + t + 1)..<Swift.max(past + t + 1, keys) { values[t * keys + j] = -.infinity } }
        return try! Tensor(values, shape: [queries, keys])
    }
}
