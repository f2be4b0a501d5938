/// What one fuzzing pass did.
public struct FuzzReport: Sendable, CustomStringConvertible {
    /// Messages sent to the target (a multipart message counts once).
    public var frames = 0
    /// Messages the target sent back.
    public var replies = 0
    /// Fresh connection identities used (identity floods).
    public var identities = 0
    /// Sends the fuzzer's own socket refused (a full queue: the target was slower).
    public var backpressure = 0
    public var seconds = 0.0

    public init() {}

    public var description: String {
        "\(frames) frames in \(String(format: "%.1f", seconds)) s (\(Int(Double(frames) / max(seconds, 1e-9))) / s), "
            + "\(replies) replies, \(identities) identities, \(backpressure) back-pressured sends"
    }
}
