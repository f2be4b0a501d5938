import Datasets
import LanguageModels
import Tensor
import Testing

/// The two zero-shot scorers prompt search builds on, on real labeled text: both must do
/// clearly better than chance with a plain prompt, which is the baseline a search improves.
@Suite("Zero-shot classifiers on real text")
struct ClassifierTests {
    func accuracy(_ predicted: [Int], _ task: LabeledText) -> Double {
        Double(zip(predicted, task.targets).filter { $0 == $1 }.count) / Double(task.count)
    }

    @Test("two-level prefix reuse scores every context × continuation as scoring each from scratch does")
    func twoLevelReuse() throws {
        let lm = Models.smollm
        let tokenizer = lm.tokenizer
        let prefix = tokenizer.encode("Decide whether each review is positive or negative.\n\n")
        let contexts = ["Review: a joyless, tedious mess.\nSentiment:", "Review: warm and funny.\nSentiment:"].map(tokenizer.encode)
        let continuations = [" negative", " positive", " great film"].map(tokenizer.encodePlain)
        let grid = try lm.logLikelihoods(prefix: prefix, contexts: contexts, continuations: continuations)
        for (c, context) in contexts.enumerated() {
            let flat = try lm.logLikelihoods(prefix: prefix + context, items: continuations.map { ([], $0) }, reusePrefix: false)
            for (k, value) in flat.enumerated() { #expect(abs(grid[c][k] - value) < 2e-3, "\(grid[c][k]) vs \(value)") }
        }
        #expect(grid.count == 2 && grid.allSatisfy { $0.count == 3 && $0.allSatisfy { $0 < 0 } })
    }

    @Test("SmolLM2 likelihood with a plain prompt beats chance on VADER movie snippets")
    func likelihood() throws {
        let task = try LabeledText.load("vader-movies").split(fraction: 0.004, seed: 5).first  // 37 snippets
        let classifier = LikelihoodClassifier(model: Models.smollm)
        let predicted = try classifier.predict(
            prefix: "Decide whether each movie review is positive or negative.\n\n", template: "Review: {text}\nSentiment:",
            texts: task.texts, verbalizers: [" negative", " positive"])
        let value = accuracy(predicted, task)
        print("SmolLM2 zero-shot accuracy on \(task.count) VADER movie snippets: \(value)")
        #expect(value >= 0.7)
    }

    @Test("MiniLM zero-shot with plain label names beats chance on BBC News topics")
    func embedding() throws {
        let task = try LabeledText.load("bbc-news").split(fraction: 0.02, seed: 5).first  // 45 articles
        let classifier = EmbeddingClassifier(encoder: Models.minilm)
        let predicted = try classifier.predict(template: "{text}", texts: task.texts, descriptions: task.classes)
        let value = accuracy(predicted, task)
        print("MiniLM zero-shot accuracy on \(task.count) BBC articles: \(value)")
        #expect(value >= 0.5)
    }
}
