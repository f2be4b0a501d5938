import ArgumentParser
import Foundation
import LanguageModels
import NN
import Reporting
import Tensor
import Workloads

/// `orrery explain`: which tokens of a text, and of the prompt around it, moved a
/// zero-shot classifier's decision (integrated gradients or gradient × input); or, with
/// `--spec` and `--weights`, which pixels of a test image moved a trained image classifier.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Attribute a classifier's decision to a text's tokens and the prompt's (MiniLM or SmolLM2), or to an image's pixels (a trained model).",
        discussion: """
            orrery explain --spec jobs/fashion-mlp.yaml --weights fashion-mlp.safetensors --image 7 --svg image7.svg
            (a model a train job saved with `save:`, rebuilt from the same spec; the test
            split's image 7; integrated gradients from a black image, refined until they add up
            within --tolerance; --svg draws the image beside its attribution map)

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

    @Argument(help: "The text to explain (without --spec).")
    var text: String?

    @Option(help: "An image classifier: the train spec its weights came from.")
    var spec: String?

    @Option(help: "With --spec: the weights the train job saved (safetensors).")
    var weights: String?

    @Option(help: "With --spec: the test image to explain (its index in the test split).")
    var image = 0

    @Option(help: "With --spec: also draw the image and its attribution map into this SVG file.")
    var svg: String?

    @Option(help: "minilm or smollm2.")
    var model: ModelName = .minilm

    @Option(help: "The prompt, with {text} where the text goes.")
    var template = "{text}"

    @Option(help: "Comma-separated class labels (descriptions for MiniLM, verbalizers for SmolLM2).")
    var labels: String = ""

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
        if let spec { return try explainImage(spec: spec) }
        guard let text else { throw CommandFailure.exit("give a text to explain, or --spec and --weights for an image classifier", code: CommandFailure.invalidInput) }
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

extension ExplainCommand {
    /// Pixels of a test image, for a model a `train` job saved.
    private func explainImage(spec: String) throws {
        guard let weights else { throw CommandFailure.exit("--spec needs --weights: the file the train job saved", code: CommandFailure.invalidInput) }
        guard method == .integratedGradients else { throw CommandFailure.exit("images are explained by integrated gradients only", code: CommandFailure.invalidInput) }
        guard (1...4096).contains(steps) else { throw CommandFailure.exit("--steps must be in 1...4096", code: CommandFailure.invalidInput) }
        let (yaml, _) = try JobSpecFile.load(spec)
        let classIndex = try explain.map { text in
            guard let index = Int(text) else { throw CommandFailure.exit("--explain takes a class number for an image", code: CommandFailure.invalidInput) }
            return index
        }
        let result: PixelAttribution
        do {
            let classifier = try TrainedClassifier.load(specYAML: yaml, source: spec, weights: weights)
            result = try classifier.explain(image: image, classIndex: classIndex, steps: steps, tolerance: tolerance > 0 ? tolerance : nil)
        } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
        if let svg {
            let drawing = PixelMapPlot.svg(
                imageShape: result.imageShape, pixels: result.pixels, attributions: result.attributions,
                title: "test image \(image) (class \(result.label)): attributions to class \(result.classIndex)")
            do {
                try drawing.write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure.exit("cannot write \(svg): \(error.localizedDescription)", code: CommandFailure.invalidInput)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
        print(String(format: "test image %d, class %d; predicted %d (p = %.3f); explaining class %d (log-probability %.4f)",
            image, result.label, result.probabilities.indices.max { result.probabilities[$0] < result.probabilities[$1] }!,
            result.probabilities.max() ?? 0, result.classIndex, result.score))
        // Channels come first: a pixel's place is its index within one height × width plane.
        let width = max(1, result.imageShape.last ?? 1), plane = max(1, result.imageShape.suffix(2).reduce(1, *))
        let ranked = result.attributions.indices.sorted { abs(result.attributions[$0]) > abs(result.attributions[$1]) }.prefix(10)
        print("strongest pixels (row, column: attribution):")
        for index in ranked {
            print(String(format: "  (%d, %d): %+.4f", index % plane / width, index % width, result.attributions[index]))
        }
        if let gap = result.completenessGap {
            print(String(format: "attributions sum to %.4f (gap %.2f%%, %d steps)", result.attributions.reduce(0, +), 100 * gap, result.steps))
        }
    }
}

extension TokenAttribution.Method: ExpressibleByArgument {}
