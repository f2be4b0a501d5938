import Foundation

/// BERT's uncased WordPiece tokenizer (Devlin et al. 2019), read from a `vocab.txt`.
///
/// Text is cleaned (control characters dropped, whitespace unified), CJK ideographs are
/// split apart, words are lower-cased and stripped of accents (NFD, combining marks
/// dropped) and split at punctuation; each word is then cut greedily into the longest
/// vocabulary pieces, continuations prefixed `##`, or `[UNK]` when it cannot be. Encodings
/// are wrapped in `[CLS] … [SEP]` and truncated to `maxLength`.
public struct WordPieceTokenizer: Sendable {
    public let tokens: [String]
    public let ids: [String: Int]
    public let classifierID: Int
    public let separatorID: Int
    public let paddingID: Int
    public let unknownID: Int
    /// Words longer than this (in characters) become `[UNK]`, as in BERT.
    public let maxWordCharacters = 100

    /// Reads one token per line; the line number is the id.
    public init(vocabularyFile path: String) throws(ModelFileError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ModelFileError(path: path, "cannot read the vocabulary (missing, or not UTF-8)")
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, source: path)
    }

    public init(tokens: [String], source: String = "vocabulary") throws(ModelFileError) {
        self.tokens = tokens
        var ids: [String: Int] = [:]
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        self.ids = ids
        func special(_ name: String) throws(ModelFileError) -> Int {
            guard let id = ids[name] else { throw ModelFileError(path: source, "the vocabulary has no \(name) token (\(tokens.count) lines)") }
            return id
        }
        classifierID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = try special("[PAD]")
        unknownID = try special("[UNK]")
    }

    /// `[CLS] pieces… [SEP]`, at most `maxLength` ids.
    public func encode(_ text: String, maxLength: Int = 512) -> [Int] {
        let pieces = Self.basicWords(text).flatMap(wordPieces)
        return [classifierID] + pieces.prefix(Swift.max(0, maxLength - 2)) + [separatorID]
    }

    /// Encodings of `texts`, padded with `[PAD]` to the longest.
    public func encodeBatch(_ texts: [String], maxLength: Int = 512) -> TokenBatch {
        TokenBatch(texts.map { encode($0, maxLength: maxLength) }, padID: paddingID)
    }

    /// The tokens of `ids`, joined with `##` continuations glued back on.
    public func decode(_ ids: [Int]) -> String {
        var text = ""
        for id in ids where tokens.indices.contains(id) {
            let token = tokens[id]
            if token.hasPrefix("##") {
                text += token.dropFirst(2)
            } else {
                text += (text.isEmpty ? "" : " ") + token
            }
        }
        return text
    }

    /// BERT's "basic" tokenization: clean, split CJK, lower-case, strip accents, split
    /// on whitespace and punctuation.
    static func basicWords(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD { continue }
            let category = scalar.properties.generalCategory
            if scalar == "\t" || scalar == "\n" || scalar == "\r" || category == .spaceSeparator {
                cleaned.append(" ")
            } else if category == .control || category == .format {
                continue
            } else if UnicodeClass.isCJK(scalar) {
                cleaned.append(contentsOf: [" ", scalar, " "])
            } else {
                cleaned.append(scalar)
            }
        }
        var words: [String] = []
        for word in String(cleaned).split(separator: " ", omittingEmptySubsequences: true) {
            let folded = word.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
            var current = String.UnicodeScalarView()
            for scalar in folded {
                if UnicodeClass.isPunctuation(scalar) {
                    if !current.isEmpty { words.append(String(current)) }
                    words.append(String(scalar))
                    current = String.UnicodeScalarView()
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty { words.append(String(current)) }
        }
        return words
    }

    /// Greedy longest-match-first pieces of one word.
    func wordPieces(_ word: String) -> [Int] {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxWordCharacters else { return [unknownID] }
        var pieces: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while end > start {
                var piece = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { piece = "##" + piece }
                if let id = ids[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return [unknownID] }
            pieces.append(found)
            start = end
        }
        return pieces
    }
}
