import ArgumentParser
import Foundation
import Workloads

/// `orrery bench prompt-tune`: soft-prompt and LoRA tuning steps per second on MiniLM
/// (scripts/bench/prompt-tune runs it beside Hugging Face PEFT on the same files and
/// shapes), and with `--memory` the peak resident memory of tuning against inference.
struct PromptTuneBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt-tune",
        abstract: "Prompt-tuning and LoRA steps/s on MiniLM, 16 × 32 tokens, prompt 8, rank 8 (threads: ORRERY_THREADS, OPENBLAS_NUM_THREADS).")

    @Option(name: .long, help: "Timed runs of each measurement; the median is reported.")
    var repeats = 5

    @Option(name: .long, help: "Tuning steps per timed run.")
    var steps = 10

    @Option(name: .long, help: "Only rows whose name contains this text.")
    var filter: String?

    @Flag(name: .long, help: "Measure peak resident memory of tuning against inference instead (run it in a fresh process).")
    var memory = false

    @Flag(name: .long, help: "Tune with gradient checkpointing (each encoder layer recomputed in the backward pass).")
    var checkpointed = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let shape = PromptTuneBenchmark.Shape()
        let fixture = try PromptTuneBenchmark.Fixture(shape: shape)
        if memory {
            let (loaded, inference, tuning) = try PromptTuneBenchmark.memory(fixture: fixture, checkpointed: checkpointed)
            let mib = { (bytes: Int) in Double(bytes) / 1_048_576 }
            print(String(
                format: "resident memory: %.0f MiB with the model loaded; peak %.0f MiB during inference, %.0f MiB during tuning: tuning/inference %.2fx (process), %.2fx (above the loaded model)",
                mib(loaded), mib(inference), mib(tuning), Double(tuning) / Double(inference),
                Double(tuning - loaded) / Double(max(1, inference - loaded))))
            return
        }
        let rows = try [
            ("minilm soft prompt, 16 x 32 tokens, P 8", "soft-prompt", false), ("minilm lora q+v r8, 16 x 32 tokens", "lora", false),
            ("minilm soft prompt, checkpointed layers", "soft-prompt", true),
        ].filter { filter == nil || $0.0.contains(filter!) }.map { name, method, checkpointed in
            try BenchmarkOutput.measure(repeats: repeats, name, unit: "steps/s") {
                try PromptTuneBenchmark.stepsPerSecond(method, fixture: fixture, steps: steps, checkpointed: checkpointed)
            }
        }
        try BenchmarkOutput.print(rows, json: output.json)
    }
}
