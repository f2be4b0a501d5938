/// Token ids of several texts, padded on the right to one length, with each text's real
/// length: the input of a batched forward pass.
public struct TokenBatch: Sendable, Equatable {
    /// Row-major [count, length] ids; padding positions hold `padID`.
    public let ids: [Int]
    public let lengths: [Int]
    public let length: Int

    public var count: Int { lengths.count }

    /// Pads `sequences` with `padID` to the longest one.
    public init(_ sequences: [[Int]], padID: Int) {
        let length = sequences.map(\.count).max() ?? 0
        self.length = length
        lengths = sequences.map(\.count)
        ids = sequences.flatMap { $0 + Array(repeating: padID, count: length - $0.count) }
    }

    /// 1 for real tokens, 0 for padding, row-major [count, length].
    public var attentionMask: [Float] {
        lengths.flatMap { Array(repeating: Float(1), count: $0) + Array(repeating: Float(0), count: length - $0) }
    }
}
