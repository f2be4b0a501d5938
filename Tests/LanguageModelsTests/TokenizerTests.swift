import LanguageModels
import Testing

@Suite("Tokenizers match the reference")
struct TokenizerTests {
    @Test("WordPiece: MiniLM's ids for every reference sentence, and the documented check value")
    func wordPiece() throws {
        let reference = Reference.shared.minilm
        let tokenizer = Models.minilm.tokenizer
        #expect(tokenizer.encode("Hello, world!") == [101, 7592, 1010, 2088, 999, 102])
        for (sentence, ids) in zip(reference.sentences, reference.token_ids) {
            #expect(tokenizer.encode(sentence) == ids, "\(sentence)")
        }
    }

    @Test("WordPiece truncates to maxLength with [SEP] kept, and pads a batch with a mask")
    func wordPieceBatch() {
        let tokenizer = Models.minilm.tokenizer
        let long = tokenizer.encode(String(repeating: "word ", count: 50), maxLength: 8)
        #expect(long.count == 8 && long.first == tokenizer.classifierID && long.last == tokenizer.separatorID)
        let batch = tokenizer.encodeBatch(["a b c", "a"])
        #expect(batch.lengths == [5, 3] && batch.length == 5)
        #expect(Array(batch.ids[5..<10]) == [101, 1037, 102, 0, 0])
        #expect(Array(batch.attentionMask[5..<10]) == [1, 1, 1, 0, 0])
    }

    @Test("Byte-level BPE: SmolLM2's ids for every reference text, special tokens included, and decoding round-trips")
    func bytePairEncoding() {
        let reference = Reference.shared.smollm2
        let tokenizer = Models.smollm.tokenizer
        for (text, ids) in zip(reference.bpe_texts, reference.bpe_ids) {
            #expect(tokenizer.encode(text) == ids, "\(text.debugDescription)")
            #expect(tokenizer.decode(ids) == text)
        }
    }

    @Test("The chat template renders SmolLM2's ChatML with its default system message")
    func chatTemplate() {
        let rendered = ChatTemplate().prompt(user: "What is 2+2?")
        #expect(rendered == Reference.shared.smollm2.bpe_texts[4])
        #expect(Models.smollm.tokenizer.encode(rendered).first == 1)  // <|im_start|>
    }
}
