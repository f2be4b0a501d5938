import Datasets
import Foundation

/// Searches prompts for a text classification task: the coordinator proposes prompts and
/// plans (prompt, batch of dev examples) tasks; workers score them with a pretrained model
/// they load once; the best prompt found on dev is then scored on the held-out test split
/// next to the baseline prompt (index 0 of every list: no demonstrations).
///
/// ```yaml
/// prompt-search:
///   task: vader-movies                 # a LabeledText task (scripts/fetch-data)
///   classes: [negative, positive]      # optional: a subset, in verbalizer order
///   scorer: smollm2                    # smollm2 (verbalizer likelihood) | minilm (similarity)
///   dev: 200                           # dev examples scored (fixed split, seeded order)
///   test: 400                          # test examples for the final report
///   demonstration_pool: 8              # per class, set aside from dev for demonstrations
///   strategy: halving                  # exhaustive | random | halving | evolution
///   candidates: 24                     # random, evolution: candidates to try; halving: a sample
///   min_examples: 25                   # halving: rung 0's dev examples
///   reduction: 2                       # halving: η
///   population: 8                      # evolution
///   tournament: 3                      # evolution
///   crossover: 0.3                     # evolution: share of children made by crossover
///   budget: 5000                       # most dev evaluations (prompt × example) to plan
///   batch: 25                          # examples per task
///   concurrent_trials: 4               # candidates being scored at once
///   max_text_tokens: 96                # texts and demonstrations are cut to this
///   seed: 1
///   instructions: ["", "Is this review positive or negative?"]
///   templates: ["{text}\nSentiment:"]
///   verbalizers: [[" negative", " positive"], [" bad", " good"]]
///   demonstrations: [0, 1, 2]          # per class; the first must be 0 (the baseline)
///   demonstration_draws: 2             # different seeded picks of demonstrations
///   paraphrase: {count: 2, temperature: 0.8}   # optional meta-prompting with SmolLM2:
///                                      # rewrites before the search, or with every: N
///                                      # (evolution) the best's instruction every N candidates
///   explain: {texts: 8, steps: 64}     # optional: the best prompt's tokens by integrated
///                                      # gradients on the first test texts (prompt-tokens.csv)
/// ```
public struct PromptSearchWorkload: Workload {
    /// Where task files are read from (the data cache unless a test says otherwise).
    let dataDirectory: String

    public init(dataDirectory: String = DataCache.path("text")) {
        self.dataDirectory = dataDirectory
    }

    public var kind: String { "prompt-search" }
    public var summary: String { "search instructions, templates, verbalizers and demonstrations for a text classifier" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        try PromptSearchPlanner(plan: PromptSearchSpec.read(section, dataDirectory: dataDirectory))
    }

    public func makeExecutor() throws -> any Executor { PromptSearchExecutor() }
}
