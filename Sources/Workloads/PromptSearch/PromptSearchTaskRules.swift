import Wire

/// The bounds a prompt-search task from the network must keep before a worker spends a
/// model's time on it: the same ranges the spec parser accepts, so that a coordinator (or
/// anyone posing as one) cannot make a worker generate four billion tokens, allocate a
/// key-value cache for them, or index a verbalizer that does not exist.
enum PromptSearchTaskRules {
    static let maxTextTokens = 8...512
    static let texts = 1...10_000
    static let verbalizers = 2...64
    static let demonstrations = 0...256
    static let paraphrases = 1...20
    static let paraphraseTokens = 1...256
    static let temperature = 0.0...5.0
    /// Score-fed proposals: instructions shown, and the longest one (the meta-prompt stays
    /// within SmolLM2's context).
    static let leaderboardEntries = 20
    static let maximumInstructionBytes = 512
    /// Longest instruction, template, verbalizer or text, in bytes.
    static let maximumTextBytes = 64 * 1024
    private static let rule = TaskRule(subject: "prompt-search task")

    /// A model digest as the planner writes it: 64 lowercase hex digits. Checked before
    /// the worker hashes its weights file to compare.
    static func validateDigest(_ digest: String) throws(TaskError) {
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw rule.fail("model_sha256 must be 64 lowercase hex digits")
        }
    }

    static func validate(_ task: Orrery_V1_Workloads_PromptScoreTask) throws(TaskError) {
        try validate(task.prompt, texts: task.texts, allowed: texts, maxTextTokens: task.maxTextTokens, digest: task.modelSha256)
    }

    /// Texts one explanation task attributes, and integrated gradients' first grid.
    static let explainedTexts = 1...64
    static let explainSteps = 1...4096

    static func validate(_ task: Orrery_V1_Workloads_PromptExplainTask) throws(TaskError) {
        try validate(task.prompt, texts: task.texts, allowed: explainedTexts, maxTextTokens: task.maxTextTokens, digest: task.modelSha256)
        try rule.range("steps", Int(task.steps), explainSteps)
    }

    /// What scoring and explaining share: the digest, the cut, the texts, the prompt.
    private static func validate(
        _ prompt: Orrery_V1_Workloads_Prompt, texts taskTexts: [String], allowed: ClosedRange<Int>, maxTextTokens cut: UInt32, digest: String
    ) throws(TaskError) {
        try validateDigest(digest)
        try rule.range("max_text_tokens", Int(cut), maxTextTokens)
        try rule.range("texts", taskTexts.count, allowed)
        try rule.range("verbalizers", prompt.verbalizers.count, verbalizers)
        try rule.range("demonstrations", prompt.demonstrations.count, demonstrations)
        for demonstration in prompt.demonstrations where Int(demonstration.label) >= prompt.verbalizers.count {
            throw rule.fail("a demonstration's label \(demonstration.label) has no verbalizer")
        }
        let texts = [prompt.instruction, prompt.template] + prompt.verbalizers + taskTexts + prompt.demonstrations.map(\.text)
        if let long = texts.first(where: { $0.utf8.count > maximumTextBytes }) {
            throw rule.fail("a text of \(long.utf8.count) bytes; at most \(maximumTextBytes)")
        }
    }

    static func validate(_ task: Orrery_V1_Workloads_ParaphraseTask) throws(TaskError) {
        try validateDigest(task.modelSha256)
        try rule.range("count", Int(task.count), paraphrases)
        try rule.range("max_tokens", Int(task.maxTokens), paraphraseTokens)
        guard temperature.contains(task.temperature) else {
            throw rule.fail("temperature must be in 0...5, got \(task.temperature)")
        }
        guard task.instruction.utf8.count <= maximumTextBytes else {
            throw rule.fail("an instruction of \(task.instruction.utf8.count) bytes; at most \(maximumTextBytes)")
        }
        try rule.count("leaderboard", task.leaderboard.count, 0...leaderboardEntries)
        for entry in task.leaderboard {
            guard entry.instruction.utf8.count <= maximumInstructionBytes, (0...1).contains(entry.accuracy) else {
                throw rule.fail("a leaderboard entry needs an instruction of at most \(maximumInstructionBytes) bytes and an accuracy in 0…1")
            }
        }
    }
}
