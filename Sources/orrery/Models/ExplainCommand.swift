import ArgumentParser
import Foundation
import LanguageModels
import NN
import Tensor

/// `orrery explain`: which tokens of a text, and of the prompt around it, moved a
/// zero-shot classifier's decision (integrated gradients or gradient × input).
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Attribute a classifier's decision on a text to its tokens and the prompt's (MiniLM or SmolLM2).",
        discussion: """
            orrery explain --model minilm --template "News: {text}" --labels sport,business,politics \\
              "the striker scored twice as the team won the cup final"
            orrery explain --model smollm2 --template "Review: {text}\\nSentiment (positive or negative):" \\
              --labels " positive"," negative" "a wonderful, moving film"
            MiniLM's labels are class descriptions (cosine to the text's embedding); SmolLM2's are
            verbalizers (the first token's logit at the last position). Each token's attribution to
            the class's log-probability is printed in order, the prompt's own tokens marked; for
            integrated gradients, how well the attributions add up (refined until within --tolerance).
            """)

    enum ModelName: String, ExpressibleByArgument, CaseIterable { case minilm, smollm2 }

    @Argument(help: "The text to explain.")
    var text: String

    @Option(help: "minilm or smollm2.")
    var model: ModelName = .minilm

    @Option(help: "The prompt, with {text} where the text goes.")
    var template = "{text}"

    @Option(help: "Comma-separated class labels (descriptions for MiniLM, verbalizers for SmolLM2).")
    var labels: String

    @Option(help: "The class to explain (its label); the predicted one by default.")
    var explain: String?

    @Option(help: "integrated-gradients or gradient-input.")
    var method: TokenAttribution.Method = .integratedGradients

    @Option(help: "Integrated gradients' first number of steps.")
    var steps = 64

    @Option(help: "Refine the steps until the attributions add up within this fraction (0: never refine).")
    var tolerance: Float = 0.01

    @Flag(help: "Print JSON instead of the table.")
    var json = false

    func run() throws {
        let classes = labels.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
        guard classes.count >= 2 else { throw CommandFailure.exit("--labels needs at least two classes", code: CommandFailure.invalidInput) }
        guard template.contains("{text}") else { throw CommandFailure.exit("--template needs {text}", code: CommandFailure.invalidInput) }
        guard (1...4096).contains(steps) else { throw CommandFailure.exit("--steps must be in 1...4096", code: CommandFailure.invalidInput) }
        let chosen = try explain.map { name in
            guard let index = classes.firstIndex(of: name) else { throw CommandFailure.exit("--explain '\(name)' is not one of the labels", code: CommandFailure.invalidInput) }
            return index
        }
        let classifier: any PromptableClassifier
        do {
            switch model {
            case .minilm:
                classifier = try PromptedEncoderClassifier(encoder: SentenceEncoder(directory: SentenceEncoder.defaultDirectory), template: template, descriptions: classes)
            case .smollm2:
                classifier = try PromptedLikelihoodClassifier(model: CausalLanguageModel(path: CausalLanguageModel.defaultPath), template: template, verbalizers: classes)
            }
        } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
        let result = try TokenAttribution.explain(
            classifier, text: text, classIndex: chosen, method: method, steps: steps, tolerance: tolerance > 0 ? tolerance : nil, maximumSteps: 4096)
        if json { return print(try jsonText(result, classes: classes)) }
        print("class probabilities: " + zip(classes, result.probabilities).map { String(format: "%@ %.3f", $0.debugDescription, $1) }.joined(separator: ", "))
        print("explaining \(classes[result.classIndex].debugDescription) (log-probability \(String(format: "%.4f", result.score)))")
        let largest = result.tokens.map { abs($0.attribution) }.max() ?? 1
        for token in result.tokens {
            let bar = String(repeating: token.attribution >= 0 ? "+" : "-", count: Int((abs(token.attribution) / max(largest, 1e-12) * 30).rounded()))
            let quoted = token.text.debugDescription
            print("\(token.inPrompt ? "prompt" : "text  ") \(quoted.padding(toLength: max(18, quoted.count), withPad: " ", startingAt: 0)) \(String(format: "%+9.4f", token.attribution)) \(bar)")
        }
        if let gap = result.completenessGap, let baseline = result.baselineScore {
            print(String(format: "attributions sum to %.4f; f(text) − f(no words) = %.4f (gap %.2f%%, %d steps)",
                result.tokens.reduce(0) { $0 + $1.attribution }, result.score - baseline, 100 * gap, result.steps))
        }
    }

    private func jsonText(_ result: TokenAttribution, classes: [String]) throws -> String {
        struct Document: Encodable {
            struct Token: Encodable { let text: String; let attribution: Float; let prompt: Bool }
            let explained: String, probabilities: [String: Float], tokens: [Token], completenessGap: Float?, steps: Int
        }
        let document = Document(
            explained: classes[result.classIndex], probabilities: Dictionary(uniqueKeysWithValues: zip(classes, result.probabilities)),
            tokens: result.tokens.map { .init(text: $0.text, attribution: $0.attribution, prompt: $0.inPrompt) }, completenessGap: result.completenessGap,
            steps: result.steps)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}

extension TokenAttribution.Method: ExpressibleByArgument {}
