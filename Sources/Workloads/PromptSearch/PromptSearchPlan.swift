import Datasets

/// The validated settings of one prompt search, with its data: the task's fixed dev and
/// test splits and the demonstration pool set aside from dev.
struct PromptSearchPlan: Sendable {
    let task: String
    let scorer: PromptScorer
    let modelSHA256: String
    let space: PromptSpace
    let strategy: PromptStrategy
    /// Dev examples scored, in a fixed shuffled order (halving's slices are its prefixes).
    let dev: LabeledText
    /// Examples demonstrations are drawn from; never scored.
    let pool: LabeledText
    let test: LabeledText
    /// Most dev evaluations (prompt × example, cache hits not counted) the search may plan.
    let budget: Int
    let batch: Int
    let concurrentTrials: Int
    let maxTextTokens: Int
    let recomputePrefix: Bool
    let top: Int
    let seed: UInt64
    let paraphrase: ParaphrasePlan?

    /// Meta-prompting: SmolLM2 rewrites each non-empty instruction `count` times before the
    /// search starts, and the rewrites join the space as more instructions.
    struct ParaphrasePlan: Sendable {
        let count: Int
        let temperature: Double
    }
}
