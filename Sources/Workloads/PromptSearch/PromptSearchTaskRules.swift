import Runtime
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
    /// Longest instruction, template, verbalizer or text, in bytes.
    static let maximumTextBytes = 64 * 1024

    /// A model digest as the planner writes it: 64 lowercase hex digits. Checked before
    /// the worker hashes its weights file to compare.
    static func validateDigest(_ digest: String) throws(TaskError) {
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw TaskError("prompt-search task: model_sha256 must be 64 lowercase hex digits", retryable: false)
        }
    }

    static func validate(_ task: Orrery_V1_Workloads_PromptScoreTask) throws(TaskError) {
        try validateDigest(task.modelSha256)
        let prompt = task.prompt
        try range("max_text_tokens", Int(task.maxTextTokens), maxTextTokens)
        try range("texts", task.texts.count, texts)
        try range("verbalizers", prompt.verbalizers.count, verbalizers)
        try range("demonstrations", prompt.demonstrations.count, demonstrations)
        for demonstration in prompt.demonstrations where Int(demonstration.label) >= prompt.verbalizers.count {
            throw TaskError("prompt-search task: a demonstration's label \(demonstration.label) has no verbalizer", retryable: false)
        }
        let texts = [prompt.instruction, prompt.template] + prompt.verbalizers + task.texts + prompt.demonstrations.map(\.text)
        if let long = texts.first(where: { $0.utf8.count > maximumTextBytes }) {
            throw TaskError("prompt-search task: a text of \(long.utf8.count) bytes; at most \(maximumTextBytes)", retryable: false)
        }
    }

    static func validate(_ task: Orrery_V1_Workloads_ParaphraseTask) throws(TaskError) {
        try validateDigest(task.modelSha256)
        try range("count", Int(task.count), paraphrases)
        try range("max_tokens", Int(task.maxTokens), paraphraseTokens)
        guard temperature.contains(task.temperature) else {
            throw TaskError("prompt-search task: temperature must be in 0...5, got \(task.temperature)", retryable: false)
        }
        guard task.instruction.utf8.count <= maximumTextBytes else {
            throw TaskError("prompt-search task: an instruction of \(task.instruction.utf8.count) bytes; at most \(maximumTextBytes)", retryable: false)
        }
    }

    private static func range(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(TaskError) {
        guard allowed.contains(value) else {
            throw TaskError("prompt-search task: \(field) must be in \(allowed.lowerBound)...\(allowed.upperBound), got \(value)", retryable: false)
        }
    }
}
