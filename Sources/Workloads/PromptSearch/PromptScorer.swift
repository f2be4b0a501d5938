import LanguageModels

/// The pretrained model that scores prompts: SmolLM2 by verbalizer likelihood, or MiniLM
/// by similarity to class descriptions.
public enum PromptScorer: String, Sendable, CaseIterable, Codable {
    case smollm2
    case minilm

    /// The digest of the weights the planner keys scores by (what fetch-data pins).
    public var pinnedSHA256: String {
        switch self {
        case .smollm2: PinnedWeights.smolLM2
        case .minilm: PinnedWeights.miniLM
        }
    }
}

/// How the search proposes candidates.
public enum PromptStrategy: Sendable, Equatable {
    /// Every candidate of the space on the whole dev set.
    case exhaustive
    /// `count` seeded samples of the space (no repeats) on the whole dev set.
    case random(count: Int)
    /// Every candidate (or `count` samples) on `minimumExamples` dev examples, the best
    /// 1/`reduction` on `reduction` times as many, and so on up to the whole dev set.
    case halving(count: Int?, minimumExamples: Int, reduction: Int)
    /// Regularized evolution of `count` candidates from a population of `population`,
    /// starting from the baseline.
    case evolution(count: Int, population: Int, tournament: Int, crossover: Double)

    var name: String {
        switch self {
        case .exhaustive: "exhaustive"
        case .random: "random"
        case .halving: "halving"
        case .evolution: "evolution"
        }
    }
}
