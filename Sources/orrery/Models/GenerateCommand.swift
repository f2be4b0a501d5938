import ArgumentParser
import Foundation
import LanguageModels
import Tensor

/// `orrery generate`: text from SmolLM2-135M-Instruct on Orrery's engine, streamed.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with SmolLM2-135M-Instruct (greedy, or sampled with a seed).",
        discussion: """
            orrery generate "The capital of France is"
            orrery generate --chat "Give me three names for a cat." --temperature 0.7 --seed 1
            Statistics (prefill and decode tokens/s, weight memory) go to standard error.
            """)

    @Argument(help: "The prompt.")
    var prompt: String

    @Flag(help: "Wrap the prompt in the model's chat template as a user message.")
    var chat = false

    @Option(help: "GGUF model file.")
    var model: String = CausalLanguageModel.defaultPath

    @Option(help: "Most tokens to generate.")
    var maxTokens = 64

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample among the K most likely tokens (0: all).")
    var topK = 50

    @Option(help: "Sample among the most likely tokens whose probability reaches P.")
    var topP: Float = 1

    @Option(help: "Seed of the sampler.")
    var seed: UInt64 = 0

    @Option(help: "Weights in memory: dequantized (float32) or quantized (as stored, multiplied in place: faster decoding, a fifth of the memory).")
    var weights: WeightMode = .dequantized

    func run() throws {
        guard maxTokens > 0 else { throw CommandFailure.exit("--max-tokens must be positive", code: CommandFailure.invalidInput) }
        let loadStart = Date()
        let lm: CausalLanguageModel
        do { lm = try CausalLanguageModel(path: model, mode: weights) } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let text = chat ? lm.chat.prompt(user: prompt) : prompt
        let ids = lm.tokenizer.encode(text)
        guard !ids.isEmpty else { throw CommandFailure.exit("the prompt has no tokens", code: CommandFailure.invalidInput) }
        var printed = ""
        var generated: [Int] = []
        var firstToken: Date?
        let start = Date()
        let sampler = Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
        _ = try lm.generate(ids, maxTokens: maxTokens, sampler: sampler) { id in
            if firstToken == nil { firstToken = Date() }
            guard id != lm.tokenizer.endID else { return false }
            generated.append(id)
            // Print whole characters only: a token may end inside a multi-byte one.
            let decoded = lm.tokenizer.decode(generated)
            if !decoded.hasSuffix("\u{FFFD}") {
                FileHandle.standardOutput.write(Data(decoded.dropFirst(printed.count).utf8))
                printed = decoded
            }
            return true
        }
        print(lm.tokenizer.decode(generated).dropFirst(printed.count))
        let end = Date()
        let prefill = (firstToken ?? end).timeIntervalSince(start)
        let decode = end.timeIntervalSince(firstToken ?? end)
        let stats = String(
            format: "load %.2f s; prompt %d tokens, prefill %.1f tokens/s; %d tokens decoded at %.1f tokens/s; weights %.0f MB (%@)\n",
            loadSeconds, ids.count, Double(ids.count) / prefill, generated.count, Double(max(generated.count - 1, 0)) / max(decode, 1e-9),
            Double(lm.model.weightBytes) / 1e6, weights.rawValue)
        fflush(nil)
        FileHandle.standardError.write(Data(stats.utf8))
    }
}

extension WeightMode: ExpressibleByArgument {}
