import Foundation

/// The shape of a BERT encoder, from a Hugging Face `config.json`.
public struct BertConfig: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    public init(
        vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maxPositions: Int,
        typeVocabularySize: Int, layerNormEpsilon: Float
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Reads `config.json`; only GELU (erf) BERTs with absolute positions are accepted.
    public init(file path: String) throws(ModelFileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelFileError(path: path, "cannot read the model config") }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelFileError(path: path, "is not a JSON object")
        }
        func int(_ key: String) throws(ModelFileError) -> Int {
            guard let value = json[key] as? Int, value > 0 else { throw ModelFileError(path: path, "'\(key)' is missing or not a positive integer") }
            return value
        }
        if let activation = json["hidden_act"] as? String, activation != "gelu" {
            throw ModelFileError(path: path, "hidden_act '\(activation)' is not supported (gelu only)")
        }
        if let positions = json["position_embedding_type"] as? String, positions != "absolute" {
            throw ModelFileError(path: path, "position_embedding_type '\(positions)' is not supported (absolute only)")
        }
        self.init(
            vocabularySize: try int("vocab_size"), hiddenSize: try int("hidden_size"), layers: try int("num_hidden_layers"),
            heads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
            maxPositions: try int("max_position_embeddings"), typeVocabularySize: try int("type_vocab_size"),
            layerNormEpsilon: Float((json["layer_norm_eps"] as? Double) ?? 1e-12))
        guard hiddenSize % heads == 0 else { throw ModelFileError(path: path, "hidden_size \(hiddenSize) does not split into \(heads) heads") }
    }
}
