import ArgumentParser
import Foundation
import NN
import Tensor

/// `orrery quantize`: a trained float32 safetensors model to int8 (`Int8Checkpoint`).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Store a trained model's linear weights in int8 (per output channel), the rest in float32.",
        discussion: """
            orrery quantize fashion-mlp.safetensors fashion-mlp-int8.safetensors
            Every rank-2 tensor named …weight becomes an I8 tensor with its scales in …weight_scale.
            A model loads it with Int8Checkpoint.load and runs int8 products after quantizeToInt8().
            """)

    @Argument(help: "The float32 safetensors model.")
    var input: String

    @Argument(help: "Where to write the int8 model.")
    var output: String

    func run() throws {
        let tensors: [String: Tensor], skipped: [String]
        do { (tensors, skipped) = try Safetensors.load(input) } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
        guard skipped.isEmpty else {
            throw CommandFailure.exit("\(input) holds tensors that are not float32 (\(skipped.prefix(4).joined(separator: ", "))): already quantized?", code: CommandFailure.invalidInput)
        }
        let ordered = tensors.keys.sorted().map { ($0, tensors[$0]!) }
        let data = try Int8Checkpoint.encode(ordered, metadata: ["orrery.source": URL(fileURLWithPath: input).lastPathComponent])
        do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw CommandFailure.exit("cannot write \(output): \(error.localizedDescription)", code: CommandFailure.invalidInput)
        }
        let before = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
        let quantized = ordered.filter { $0.0.hasSuffix("weight") && $0.1.rank == 2 }.count
        print(String(format: "%@: %d of %d tensors in int8; %d → %d bytes (%.2f× smaller)", output, quantized, ordered.count, before, data.count,
            Double(before) / Double(max(1, data.count))))
    }
}
