import Datasets
import Foundation
import LanguageModels
import Tensor
import Testing
import Wire

@testable import Workloads

/// Prompt search on the K-shot examples (`discrete-search` in prompt-tune): the selection
/// rule on crafted scores, leave-one-out prototypes against the real MiniLM's embeddings, a
/// one-candidate search equal to the untuned prompt it names (MiniLM and SmolLM2), and
/// specs refused at the field that is wrong.
@Suite("Discrete prompt search on K shots")
struct DiscreteSearchTests {
    /// Fixed logits per candidate's template: the selection rule, without a model.
    final class CraftedScorer: FewShotPromptScorer {
        let logitsByTemplate: [String: [[Float]]]
        init(_ logits: [String: [[Float]]]) { logitsByTemplate = logits }
        func shotLogits(_ prompt: DiscretePrompt, shots: LabeledText) throws(TensorError) -> [[Float]] {
            guard let logits = logitsByTemplate[prompt.template] else { throw TensorError(.invalidArgument("cannot score \(prompt.template)")) }
            return logits
        }
        func logits(_ prompt: DiscretePrompt, shots: LabeledText, texts: [String]) throws(TensorError) -> Tensor { Tensor.zeros([texts.count, 2]) }
    }

    static let shots = LabeledText(name: "t", classes: ["a", "b"], texts: ["x", "y", "z", "w"], targets: [0, 0, 1, 1])

    static func space(_ templates: [String]) -> Orrery_V1_Workloads_DiscreteSearchSpace {
        var space = Orrery_V1_Workloads_DiscreteSearchSpace()
        (space.templates, space.descriptions, space.prototypes) = (templates, ["{class}"], [false])
        return space
    }

    @Test("the most shots right wins; a tie goes to the surer candidate, then to the earlier; a candidate that cannot be scored is skipped")
    func selectionRule() throws {
        let threeRight: [[Float]] = [[2, 0], [2, 0], [0, 2], [2, 0]]
        let threeRightSurer: [[Float]] = [[5, 0], [5, 0], [0, 5], [1, 0]]
        let allRight: [[Float]] = [[0.1, 0], [0.1, 0], [0, 0.1], [0, 0.1]]
        func chosen(_ templates: [String], _ logits: [String: [[Float]]]) throws -> DiscreteSearch.Choice {
            try DiscreteSearch(Self.space(templates), classes: ["a", "b"], descriptions: ["a", "b"]).choose(shots: Self.shots, scorer: CraftedScorer(logits))
        }
        let byAccuracy = try chosen(["1 {text}", "2 {text}", "3 {text}"], ["1 {text}": threeRight, "2 {text}": allRight, "3 {text}": threeRightSurer])
        #expect(byAccuracy.prompt.template == "2 {text}" && byAccuracy.shotAccuracy == 1 && byAccuracy.scored == 3)
        let bySureness = try chosen(["1 {text}", "2 {text}"], ["1 {text}": threeRight, "2 {text}": threeRightSurer])
        #expect(bySureness.prompt.template == "2 {text}" && bySureness.shotAccuracy == 0.75)
        let byOrder = try chosen(["1 {text}", "2 {text}"], ["1 {text}": threeRight, "2 {text}": threeRight])
        #expect(byOrder.prompt.template == "1 {text}")
        let skipping = try chosen(["broken {text}", "1 {text}"], ["1 {text}": threeRight])
        #expect(skipping.prompt.template == "1 {text}" && skipping.scored == 1)
        #expect {
            _ = try chosen(["broken {text}"], [:])
        } throws: { error in "\(error)".contains("no candidate could be scored") && "\(error)".contains("cannot score broken") }
    }

    @Test("description patterns fill in a WordNet category's topic and part of speech, and refuse them for a class that is not one")
    func patterns() throws {
        let filled = try DiscreteSearch.fill("{pos}: {topic} ({class}; {description})", classes: ["noun.animal", "verb.motion"], descriptions: ["d1", "d2"])
        #expect(filled == ["noun: animal (noun.animal; d1)", "verb: motion (verb.motion; d2)"])
        #expect {
            _ = try DiscreteSearch.fill("about {topic}", classes: ["sport"], descriptions: ["sport"])
        } throws: { error in "\(error)".contains("class 'sport' is not one") }
    }

    @Test("with the shots as prototypes, each shot is scored against its class without itself (MiniLM's real embeddings)")
    func leaveOneOut() throws {
        let encoder = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
        let scorer = EncoderPromptScorer(encoder: encoder, maxTextTokens: 32)
        let shots = LabeledText(
            name: "t", classes: ["animal", "food"],
            texts: ["a small furry mammal that barks", "a large cat with stripes", "a sweet baked dessert", "bread with cheese and tomato"],
            targets: [0, 0, 1, 1])
        let descriptions = ["an animal", "a food"]
        let prompt = DiscretePrompt(template: "{text}", descriptions: descriptions, pattern: "{class}", prototypes: true)
        let logits = try scorer.shotLogits(prompt, shots: shots)
        let texts = try encoder.embed(shots.texts).scalars
        let described = try encoder.embed(descriptions).scalars
        let width = encoder.model.config.hiddenSize
        func row(_ values: [Float], _ index: Int) -> [Float] { Array(values[(index * width)..<((index + 1) * width)]) }
        for i in 0..<shots.count {
            for label in 0..<2 {
                var vector = row(described, label)
                for j in 0..<shots.count where shots.targets[j] == label && j != i {
                    vector = zip(vector, row(texts, j)).map { $0 + $1 }
                }
                let expected = 20 * EncoderPromptScorer.cosine(row(texts, i), vector)
                #expect(abs(logits[i][label] - expected) < 1e-4, "shot \(i), class \(label): \(logits[i][label]) against \(expected)")
            }
        }
        // The test texts see every shot in their class's vector.
        let test = try scorer.logits(prompt, shots: shots, texts: [shots.texts[0]]).scalars
        var full = row(described, 0)
        for j in 0..<2 { full = zip(full, row(texts, j)).map { $0 + $1 } }
        #expect(abs(test[0] - 20 * EncoderPromptScorer.cosine(row(texts, 0), full)) < 1e-4)
        #expect(test[0] > logits[0][0], "a text in its own prototype scores higher than left out")
    }

    @Test("a one-candidate search is the untuned prompt itself: the same test hits as the job's discrete prompt", arguments: ["minilm", "smollm2"])
    func oneCandidateIsTheDiscretePrompt(model: String) throws {
        let section = PromptTuneTests.small.replacingOccurrences(of: "model: minilm", with: "model: \(model)")
        let planner = try PromptTuneTests.planner(section + """

              descriptions: [animal, food, motion]
              variants:
                - {method: discrete-search, templates: ["{text}"], descriptions: ["{description}"], prototypes: [false]}
                - {method: discrete-search, name: searched, templates: ["{text}", "Definition: {text}"], descriptions: ["{description}", "something about {topic}"]}

            """ + (model == "minilm" ? "    - {method: discrete-search, name: pruned, prototypes: [false], prune: {heads: 0.25, feed_forward: 0.25}}\n" : ""))
        try PromptTuneTests.runToTheEnd(planner)
        let results = try planner.results.map { try #require($0.result) }
        #expect(results[0].hits == results[0].discreteHits && results[0].hits.count == 12)
        if model == "minilm" {
            // Searched on the pruned model the untuned prompt is scored with, not the whole one.
            #expect(results[2].hits == results[2].discreteHits && results[2].discreteHits != results[0].discreteHits)
        }
        #expect(results[0].chosenPrompt == "template \"{text}\", classes \"{description}\"")
        #expect(results[1].chosenPrompt.hasPrefix("template \"") && (0...1).contains(results[1].chosenTrainAccuracy))
        #expect(results.allSatisfy { $0.trainableParameters == 0 })
        let report = planner.report()
        #expect(report.text.contains("searched chose, over 1 runs"), "\(report.text)")
        #expect(report.files["runs.csv"]?.contains(",\"template \"\"{text}\"\", classes \"\"{description}\"\"\",") == true, "\(report.files["runs.csv"] ?? "")")
    }

    @Test(
        "a wrong discrete search is refused at the variant",
        arguments: [
            ("{method: discrete-search, templates: [\"no text\"]}", "has no {text}"),
            ("{method: discrete-search, descriptions: [\"{colour}\"]}", "unknown placeholder {colour}"),
            ("{method: discrete-search, templates: []}", "needs one or more different entries"),
            ("{method: discrete-search, prototypes: [true, true]}", "lists a choice twice"),
            ("{method: lora, templates: [\"{text}\"]}", "only discrete-search chooses"),
            ("{method: discrete-search, distill: true}", "discrete-search trains nothing to distill into"),
        ])
    func refusals(edit: (String, String)) throws {
        #expect {
            _ = try PromptTuneTests.planner(PromptTuneTests.small + "\n  variants: [\(edit.0)]\n")
        } throws: { error in
            "\(error)".contains(edit.1)
        }
        let smol = PromptTuneTests.small.replacingOccurrences(of: "model: minilm", with: "model: smollm2")
        #expect {
            _ = try PromptTuneTests.planner(smol + "\n  variants: [{method: discrete-search, prototypes: [false, true]}]\n")
        } throws: { error in "\(error)".contains("prototypes are for minilm") }
    }
}
