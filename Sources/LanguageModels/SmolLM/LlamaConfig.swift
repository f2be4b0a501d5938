import NN
import Tensor

/// The shape of a Llama-architecture model, from GGUF metadata (`llama.*`).
public struct LlamaConfig: Sendable, Equatable {
    public var layers: Int
    public var width: Int
    public var feedForward: Int
    public var heads: Int
    public var keyValueHeads: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var ropeBase: Float
    public var rmsEpsilon: Float

    public var headWidth: Int { width / heads }

    public init(gguf: GGUFFile) throws(ModelFileError) {
        do throws(TensorError) {
            guard try gguf.string("general.architecture") == "llama" else {
                throw TensorError(.badFile(path: gguf.path, detail: "general.architecture is not 'llama'"))
            }
            layers = try gguf.int("llama.block_count")
            width = try gguf.int("llama.embedding_length")
            feedForward = try gguf.int("llama.feed_forward_length")
            heads = try gguf.int("llama.attention.head_count")
            keyValueHeads = try gguf.int("llama.attention.head_count_kv")
            vocabularySize = try gguf.strings("tokenizer.ggml.tokens").count
            contextLength = try gguf.int("llama.context_length")
            ropeBase = Float(try gguf.double("llama.rope.freq_base"))
            rmsEpsilon = Float(try gguf.double("llama.attention.layer_norm_rms_epsilon"))
        } catch {
            throw ModelFileError(error, fallbackPath: gguf.path)
        }
        guard heads > 0, keyValueHeads > 0, width % heads == 0, heads % keyValueHeads == 0, headWidth % 2 == 0 else {
            throw ModelFileError(path: gguf.path, "width \(width) with \(heads) heads and \(keyValueHeads) key/value heads is not a valid Llama shape")
        }
    }
}
