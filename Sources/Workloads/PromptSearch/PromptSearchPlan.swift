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
    /// Attribute the best prompt's decisions on the first `texts` test texts to its tokens.
    var explain: ExplainPlan? = nil

    /// Integrated gradients at `steps` (refined up to 4× until they add up within 1%).
    struct ExplainPlan: Sendable {
        let texts: Int
        let steps: Int
    }

    /// Meta-prompting: SmolLM2 rewrites instructions `count` times each, and the rewrites
    /// join the space. Without `every`, every non-empty instruction is rewritten before the
    /// search starts. With `every` (evolution only), after every `every` scored candidates the
    /// best candidate's instruction is rewritten, and the best with each rewrite is evolution's
    /// next child: paraphrase as a mutation.
    struct ParaphrasePlan: Sendable {
        let count: Int
        let temperature: Double
        let every: Int?
        /// Score-fed proposals (OPRO): the model sees the instructions tried so far with
        /// their dev accuracies and is asked for a better one, instead of a rewrite of one.
        var feedback = false
    }
}
