import Foundation
import Tensor

/// Picks the next token from a row of logits: greedy (temperature 0) or sampled from the
/// softmax at a temperature, restricted to the `topK` most likely tokens and the smallest
/// set whose probability reaches `topP`. Seeded, so a sampled generation repeats exactly.
public struct Sampler: Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    var generator: SplitMix64

    public init(temperature: Float = 0, topK: Int = 50, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        generator = SplitMix64(seed: seed)
    }

    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard temperature > 0 else { return Self.argmax(logits) }
        var candidates = logits.indices.sorted { logits[$0] > logits[$1] }
        if topK > 0 { candidates = Array(candidates.prefix(topK)) }
        let top = logits[candidates[0]]
        var weights = candidates.map { Foundation.exp(Double((logits[$0] - top) / temperature)) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        if topP < 1 {
            var cumulative = 0.0
            let keep = weights.firstIndex { cumulative += $0; return cumulative >= Double(topP) }.map { $0 + 1 } ?? weights.count
            candidates = Array(candidates.prefix(keep))
            weights = Array(weights.prefix(keep))
        }
        var draw = generator.nextUnit() * weights.reduce(0, +)
        for (candidate, weight) in zip(candidates, weights) {
            draw -= weight
            if draw <= 0 { return candidate }
        }
        return candidates[candidates.count - 1]
    }

    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
