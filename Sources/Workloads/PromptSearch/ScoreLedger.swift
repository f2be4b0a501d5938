/// Which split an example belongs to.
enum PromptSplit: String, Hashable, Sendable, Codable {
    case dev
    case test
}

/// The score cache of a prompt search: one prediction per (prompt, split, example), where
/// the prompt's key is the digest of the model's weights and everything the scorer sees
/// (`PromptKey`). Nothing is planned twice: an example is either scored, in flight, or
/// missing, and only missing ones go into new tasks. A prediction arrives at most once per
/// key; a second one (which only a bug could cause) is counted and ignored.
struct ScoreLedger {
    struct Key: Hashable {
        let prompt: String
        let split: PromptSplit
        let example: Int
    }

    private(set) var predictions: [Key: Int] = [:]
    private var inFlight: Set<Key> = []
    /// Results for keys already scored; zero unless something is wrong.
    private(set) var duplicates = 0

    /// The examples among `examples` that are neither scored nor being scored; marks them in
    /// flight, for the caller to put in tasks.
    mutating func claimMissing(prompt: String, split: PromptSplit, examples: Range<Int>) -> [Int] {
        examples.filter { example in
            let key = Key(prompt: prompt, split: split, example: example)
            return predictions[key] == nil && inFlight.insert(key).inserted
        }
    }

    /// Stores a task's predictions, returning how many were new.
    mutating func record(prompt: String, split: PromptSplit, examples: [Int], predictions values: [Int]) -> Int {
        var added = 0
        for (example, value) in zip(examples, values) {
            let key = Key(prompt: prompt, split: split, example: example)
            inFlight.remove(key)
            if predictions[key] == nil {
                predictions[key] = value
                added += 1
            } else {
                duplicates += 1
            }
        }
        return added
    }

    /// Gives back examples whose task failed, so they can be claimed again.
    mutating func release(prompt: String, split: PromptSplit, examples: [Int]) {
        for example in examples { inFlight.remove(Key(prompt: prompt, split: split, example: example)) }
    }

    /// The predictions for `examples`, or nil while any is missing.
    func predictions(prompt: String, split: PromptSplit, examples: Range<Int>) -> [Int]? {
        var values: [Int] = []
        values.reserveCapacity(examples.count)
        for example in examples {
            guard let value = predictions[Key(prompt: prompt, split: split, example: example)] else { return nil }
            values.append(value)
        }
        return values
    }

    var count: Int { predictions.count }
}
