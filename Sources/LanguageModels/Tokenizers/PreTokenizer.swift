/// SmolLM's pre-tokenizer: every digit stands alone, then GPT-2's split of the rest,
/// equivalent to the regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///
/// Written as a scanner rather than a regex: Foundation's regular expressions lack
/// possessive look-ahead on Linux, and the scanner is what the BPE's speed depends on.
/// BPE merges never cross the pieces it returns.
enum PreTokenizer {
    static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    static func pieces(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(UnicodeClass.init)
        var pieces: [String] = []
        var chunkStart = 0
        for (index, kind) in classes.enumerated() where kind == .number {
            split(scalars, classes, chunkStart..<index, into: &pieces)
            pieces.append(String(scalars[index]))
            chunkStart = index + 1
        }
        split(scalars, classes, chunkStart..<scalars.count, into: &pieces)
        return pieces
    }

    /// GPT-2's split of one digit-free chunk.
    private static func split(_ s: [Unicode.Scalar], _ classes: [UnicodeClass], _ range: Range<Int>, into pieces: inout [String]) {
        func emit(_ r: Range<Int>) { pieces.append(String(String.UnicodeScalarView(s[r]))) }
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            if s[i] == "'", let match = contractions.first(where: { c in
                i + c.count < end && Array(s[(i + 1)..<(i + 1 + c.count)]) == c
            }) {
                emit(i..<(i + 1 + match.count))
                i += 1 + match.count
                continue
            }
            let start = i
            if s[i] == " ", i + 1 < end, classes[i + 1] != .space { i += 1 }
            let kind = classes[i]
            if kind != .space {
                while i < end, classes[i] == kind { i += 1 }
                emit(start..<i)
                continue
            }
            var stop = i
            while stop < end, classes[stop] == .space { stop += 1 }
            // Whitespace before a word leaves its last character to that word.
            if stop < end, stop - i > 1 { stop -= 1 }
            emit(i..<stop)
            i = stop
        }
    }
}
