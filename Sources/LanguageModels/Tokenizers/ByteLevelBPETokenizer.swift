import Foundation
import NN
import Tensor

/// Byte-level BPE (GPT-2, Llama 3, SmolLM) with the vocabulary, merges and special tokens
/// of a GGUF file (`tokenizer.ggml.*`).
///
/// Special tokens (`<|im_start|>`…) are cut out of the text first and map to their ids;
/// the rest is pre-tokenized (`PreTokenizer`), turned into UTF-8 bytes, one symbol per
/// byte, and merged pair by pair in merge-rank order. Decoding maps ids back to bytes, so
/// `decode(encode(text)) == text` for any text without the control bytes the vocabulary
/// lacks.
public final class ByteLevelBPETokenizer: @unchecked Sendable {
    public let tokens: [String]
    public let specialTokens: [String: Int]
    /// Special tokens longest first, so that one that begins with another is matched whole.
    let specialsByLength: [(token: String, id: Int)]
    public let beginID: Int
    public let endID: Int
    /// The bytes each token stands for (special tokens: their UTF-8 spelling).
    let tokenBytes: [[UInt8]]
    /// The symbol of each single byte; nil for the few control bytes a vocabulary lacks
    /// (SmolLM2 has no token for 0x04 or 0x06), which are dropped as Hugging Face's
    /// tokenizer drops them.
    let byteIDs: [Int?]
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int, merged: Int)]
    /// Pieces already merged: text repeats words, and merging is the slow part.
    private var cache: [String: [Int]] = [:]
    private let cacheLock = NSLock()

    public convenience init(gguf: GGUFFile) throws(ModelFileError) {
        let tokens: [String], kinds: [Int], merges: [String], beginID: Int, endID: Int
        do throws(TensorError) {
            guard try gguf.string("tokenizer.ggml.model") == "gpt2" else {
                throw TensorError(.badFile(path: gguf.path, detail: "tokenizer.ggml.model is not 'gpt2' (byte-level BPE)"))
            }
            tokens = try gguf.strings("tokenizer.ggml.tokens")
            kinds = try gguf.ints("tokenizer.ggml.token_type")
            merges = try gguf.strings("tokenizer.ggml.merges")
            beginID = try gguf.int("tokenizer.ggml.bos_token_id")
            endID = try gguf.int("tokenizer.ggml.eos_token_id")
        } catch {
            throw ModelFileError(error, fallbackPath: gguf.path)
        }
        try self.init(tokens: tokens, kinds: kinds, merges: merges, beginID: beginID, endID: endID, source: gguf.path)
    }

    /// - Parameter kinds: llama.cpp token types; 3 (control) marks a special token.
    public init(tokens: [String], kinds: [Int], merges: [String], beginID: Int, endID: Int, source: String) throws(ModelFileError) {
        guard kinds.count == tokens.count else {
            throw ModelFileError(path: source, "\(tokens.count) tokens but \(kinds.count) token types")
        }
        guard tokens.indices.contains(beginID), tokens.indices.contains(endID) else {
            throw ModelFileError(path: source, "begin/end token ids \(beginID)/\(endID) are outside the \(tokens.count) tokens")
        }
        self.tokens = tokens
        self.beginID = beginID
        self.endID = endID
        var special: [String: Int] = [:]
        var bytes: [[UInt8]] = []
        var ids: [[UInt8]: Int] = [:]
        for (id, token) in tokens.enumerated() {
            if kinds[id] == 3 {
                special[token] = id
                bytes.append(Array(token.utf8))
                continue
            }
            guard let spelled = ByteLevelAlphabet.decode(token) else {
                throw ModelFileError(path: source, "token \(id) '\(token)' has a character outside the byte-level alphabet")
            }
            bytes.append(spelled)
            if ids[spelled] == nil { ids[spelled] = id }
        }
        specialTokens = special
        specialsByLength = special.map { ($0.key, $0.value) }.sorted { $0.token.count != $1.token.count ? $0.token.count > $1.token.count : $0.token < $1.token }
        tokenBytes = bytes
        byteIDs = (0...255).map { ids[[UInt8($0)]] }
        guard byteIDs.compactMap({ $0 }).count >= 128 else {
            throw ModelFileError(path: source, "the vocabulary spells only \(byteIDs.compactMap { $0 }.count) of the 256 bytes: not a byte-level BPE vocabulary")
        }
        var table: [UInt64: (Int, Int)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let left = ByteLevelAlphabet.decode(String(parts[0])),
                let right = ByteLevelAlphabet.decode(String(parts[1])), let leftID = ids[left], let rightID = ids[right],
                let merged = ids[left + right]
            else {
                throw ModelFileError(path: source, "merge \(rank) '\(merge)' does not join two vocabulary tokens into a third")
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        self.merges = table
    }

    public var vocabularySize: Int { tokens.count }

    /// The ids of `text`; special-token spellings in it become their ids.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        var plain = ""
        var rest = Substring(text)
        let starts = Set(specialsByLength.compactMap(\.token.first))
        while let index = rest.firstIndex(where: starts.contains) {
            if let (token, id) = specialsByLength.first(where: { rest[index...].hasPrefix($0.token) }) {
                plain += rest[..<index]
                ids += encodePlain(plain)
                plain = ""
                ids.append(id)
                rest = rest[rest.index(index, offsetBy: token.count)...]
            } else {
                plain += rest[...index]
                rest = rest[rest.index(after: index)...]
            }
        }
        return ids + encodePlain(plain + rest)
    }

    /// The ids of text with no special tokens.
    public func encodePlain(_ text: String) -> [Int] {
        PreTokenizer.pieces(text).flatMap(encodePiece)
    }

    private func encodePiece(_ piece: String) -> [Int] {
        if let cached = cacheLock.withLock({ cache[piece] }) { return cached }
        var symbols = piece.utf8.compactMap { byteIDs[Int($0)] }
        while symbols.count > 1 {
            var best: (rank: Int, index: Int, merged: Int)?
            for index in 0..<(symbols.count - 1) {
                if let merge = merges[UInt64(symbols[index]) << 32 | UInt64(symbols[index + 1])], merge.rank < best?.rank ?? .max {
                    best = (merge.rank, index, merge.merged)
                }
            }
            guard let best else { break }
            symbols.replaceSubrange(best.index...(best.index + 1), with: [best.merged])
        }
        cacheLock.withLock {
            if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
            cache[piece] = symbols
        }
        return symbols
    }

    /// The bytes of `ids`; invalid UTF-8 (a multi-byte character cut by the end) is
    /// replaced with U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        String(decoding: ids.filter(tokens.indices.contains).flatMap { tokenBytes[$0] }, as: UTF8.self)
    }
}
