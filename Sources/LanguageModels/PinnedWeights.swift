/// The sha256 of each model's weights file as `scripts/fetch-data` pins and verifies it.
/// Scores computed with a model are keyed by this digest, and a worker checks its own
/// file against it before scoring, so results from different weights never mix.
public enum PinnedWeights {
    /// `SmolLM2-135M-Instruct.Q4_1.gguf`.
    public static let smolLM2 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    /// all-MiniLM-L6-v2's `model.safetensors`.
    public static let miniLM = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
}
