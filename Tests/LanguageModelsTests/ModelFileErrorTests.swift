import Foundation
import LanguageModels
import NN
import Tensor
import Testing

/// A missing, truncated or corrupt model file fails with an error naming the file and what
/// was wrong, instead of crashing or loading garbage.
@Suite("Bad model files")
struct ModelFileErrorTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orrery-model-files-\(getpid())").path

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    func truncatedCopy(of source: String, bytes: Int, name: String) throws -> String {
        let handle = try #require(FileHandle(forReadingAtPath: source))
        let data = try handle.read(upToCount: bytes) ?? Data()
        let path = "\(directory)/\(name)"
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func failure(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("GGUF: missing, cut inside the header, cut inside the tensor data, and not GGUF at all")
    func gguf() throws {
        let source = CausalLanguageModel.defaultPath
        let missing = failure { _ = try CausalLanguageModel(path: "\(directory)/absent.gguf") }
        #expect(missing.contains("absent.gguf") && missing.contains("missing"))
        let header = try truncatedCopy(of: source, bytes: 1 << 20, name: "header.gguf")
        let headerError = failure { _ = try CausalLanguageModel(path: header) }
        #expect(headerError.contains("header.gguf") && headerError.contains("truncated"), "\(headerError)")
        let data = try truncatedCopy(of: source, bytes: 40 << 20, name: "data.gguf")
        let dataError = failure { _ = try CausalLanguageModel(path: data) }
        #expect(dataError.contains("data.gguf") && dataError.contains("tensor '") && dataError.contains("truncated"), "\(dataError)")
        let notGGUF = "\(directory)/text.gguf"
        try Data("hello, this is not a model".utf8).write(to: URL(fileURLWithPath: notGGUF))
        let magicError = failure { _ = try CausalLanguageModel(path: notGGUF) }
        #expect(magicError.contains("text.gguf") && magicError.contains("magic"), "\(magicError)")
    }

    @Test("GGUF: a corrupt length field is refused before anything huge is allocated")
    func corruptLength() throws {
        let handle = try #require(FileHandle(forReadingAtPath: CausalLanguageModel.defaultPath))
        var bytes = [UInt8](try handle.read(upToCount: 4096) ?? Data())
        // The first metadata key's length (u64 at byte 24) becomes 2⁶²
        bytes.replaceSubrange(24..<32, with: [0, 0, 0, 0, 0, 0, 0, 0x40])
        let error = failure { _ = try GGUFFile(data: Data(bytes), source: "corrupt.gguf") }
        #expect(error.contains("corrupt.gguf") && error.contains("corrupt header"), "\(error)")
    }

    @Test("MiniLM: a truncated safetensors file and a missing vocabulary name the file")
    func safetensors() throws {
        let source = SentenceEncoder.defaultDirectory
        let copy = "\(directory)/minilm"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(source)/config.json", toPath: "\(copy)/config.json")
        _ = try truncatedCopy(of: "\(source)/model.safetensors", bytes: 10 << 20, name: "minilm/model.safetensors")
        let vocabularyError = failure { _ = try SentenceEncoder(directory: copy) }
        #expect(vocabularyError.contains("vocab.txt"), "\(vocabularyError)")
        try FileManager.default.copyItem(atPath: "\(source)/vocab.txt", toPath: "\(copy)/vocab.txt")
        let weightsError = failure { _ = try SentenceEncoder(directory: copy) }
        #expect(weightsError.contains("model.safetensors") && weightsError.contains("truncated"), "\(weightsError)")
    }
}
