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
        // One-token continuations take the batched path: contexts of different lengths, padded.
        let words = [" negative", " positive"].map(tokenizer.encodePlain)
        #expect(words.allSatisfy { $0.count == 1 })
        let more = contexts + ["Review: I expected more from the director of such fine earlier work, and got less.\nSentiment:"].map(tokenizer.encode)
        let batched = try lm.logLikelihoods(prefix: prefix, contexts: more, continuations: words)
        let unprefixed = try lm.logLikelihoods(prefix: [], contexts: more.map { prefix + $0 }, continuations: words)
        for (c, context) in more.enumerated() {
            let flat = try lm.logLikelihoods(prefix: prefix + context, items: words.map { ([], $0) }, reusePrefix: false)
            for k in words.indices {
                #expect(abs(batched[c][k] - flat[k]) < 2e-3, "\(batched[c][k]) vs \(flat[k])")
                #expect(abs(unprefixed[c][k] - flat[k]) < 2e-3, "\(unprefixed[c][k]) vs \(flat[k])")
            }
        }
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

    @Test("a few-shot prompt prepared once scores texts as recomputing its prefix for each text does; demonstrations are cut like texts")
    func preparedFewShot() throws {
        let classifier = LikelihoodClassifier(model: Models.smollm, maxTextTokens: 12)
        let demonstrations = [
            Demonstration(text: "I loved every minute of it, the cast is wonderful and the music lifts every scene.", label: 1),
            Demonstration(text: "Dull.", label: 0),
        ]
        let texts = ["What a waste of two hours.", "A small gem: warm, clever and very funny."]
        let (instruction, template, verbalizers) = ("Is the review positive or negative?", "Review: {text}\nSentiment:", [" negative", " positive"])
        let prepared = try classifier.prepare(instruction: instruction, demonstrations: demonstrations, template: template, verbalizers: verbalizers)
        let reused = try classifier.scores(prepared, texts: texts)
        let again = try classifier.scores(prepared, texts: Array(texts.reversed()))
        let recomputed = try classifier.scores(
            instruction: instruction, demonstrations: demonstrations, template: template, texts: texts, verbalizers: verbalizers, recomputePrefix: true)
        for i in texts.indices {
            for k in verbalizers.indices {
                #expect(abs(reused[i][k] - recomputed[i][k]) < 2e-3, "\(reused[i][k]) vs \(recomputed[i][k])")
                // The prepared prefix is left unchanged (a grown one would move scores far more).
                #expect(abs(reused[i][k] - again[texts.count - 1 - i][k]) < 1e-4)
            }
        }
        #expect(reused.map(LikelihoodClassifier.argmax) == [0, 1])
        let cut = LikelihoodClassifier.prefix(instruction: instruction, demonstrations: demonstrations.map { Demonstration(text: classifier.truncated($0.text), label: $0.label) }, template: template, verbalizers: verbalizers)
        #expect(!cut.contains("lifts every scene") && cut.contains("Review: Dull.\nSentiment: negative\n\n"))
    }

    @Test("MiniLM prototypes: demonstrations move each class vector toward its examples")
    func prototypes() throws {
        let classifier = EmbeddingClassifier(encoder: Models.minilm)
        let descriptions = ["business", "sport"]
        let texts = ["The striker scored twice as United won the cup final.", "Shares fell after the bank reported lower profits."]
        let plain = try classifier.scores(instruction: "", template: "{text}", texts: texts, descriptions: descriptions, demonstrations: [])
        let direct = try classifier.scores(template: "{text}", texts: texts, descriptions: descriptions)
        #expect(zip(plain.joined(), direct.joined()).allSatisfy { abs($0 - $1) < 1e-5 })
        let shown = [Demonstration(text: "The goalkeeper saved a penalty in the last minute.", label: 1)]
        let prepared = try classifier.prepare(instruction: "", template: "{text}", descriptions: descriptions, demonstrations: shown)
        let fewShot = try classifier.scores(prepared, texts: texts)
        // The football text moves closer to "sport"; the business text's similarity to business is untouched.
        #expect(fewShot[0][1] > plain[0][1])
        #expect(abs(fewShot[1][0] - plain[1][0]) < 1e-6)
        #expect(fewShot.map(LikelihoodClassifier.argmax) == [1, 0])
        #expect(throws: TensorError.self) {
            try classifier.prepare(instruction: "", template: "{text}", descriptions: descriptions, demonstrations: [Demonstration(text: "x", label: 2)])
        }
    }
}
