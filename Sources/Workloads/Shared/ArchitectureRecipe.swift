import NN
import Tensor
import Runtime
import Search

/// An architecture and how to train it, read from named settings: the vocabulary a `nas`
/// search space is written in and a `train` spec's `architecture:` section holds, so the
/// winner of a search runs under `train` unchanged.
///
/// | setting | values | default |
/// |---|---|---|
/// | family | mlp, cnn | (required) |
/// | depth | MLP hidden layers, 0…8 | (required for mlp) |
/// | width, width_N | MLP widths (width_N for layer N, else width), 1…4096 | |
/// | blocks | CNN convolution blocks, 1…5 | (required for cnn) |
/// | channels, channels_N | CNN block widths, 1…512 | |
/// | kernel, kernel_N | CNN kernel sides: 1, 3, 5, 7 | 3 |
/// | pooling | max, average | max |
/// | residual | true, false (a second convolution and a skip per block) | false |
/// | head | CNN hidden width before the classifier, 0…4096 (0: none) | 0 |
/// | activation | relu, gelu, gelu_tanh, tanh, sigmoid | relu |
/// | dropout | 0…0.9, before each classifier layer after the first | 0 |
/// | optimizer | sgd, adam, adamw | adam |
/// | learning_rate | (0, 1] | 0.001 |
/// | batch_size | 1…4096 | 64 |
/// | weight_decay | 0…1 | 0 (adamw: 0.01) |
/// | momentum | 0…0.999 (sgd) | 0.9 |
struct ArchitectureRecipe: Equatable {
    var architecture: ImageClassifierArchitecture
    var optimizer: String
    var learningRate: Double
    var batchSize: Int
    var weightDecay: Double
    var momentum: Double

    static let maximumLayers = 8
    static let maximumBlocks = 5
    static let maximumParameters = 4_000_000
    static let optimizers = ["sgd", "adam", "adamw"]

    /// What each setting may hold; indexed settings (`width_3`) share their base's rule.
    private static let rules: [String: Rule] = [
        "family": .words(ImageClassifierArchitecture.Family.allCases.map(\.rawValue)),
        "depth": .integers(0...maximumLayers),
        "width": .integers(1...4096),
        "blocks": .integers(1...maximumBlocks),
        "channels": .integers(1...512),
        "kernel": .integers(1...7, odd: true),
        "pooling": .words(ImageClassifierArchitecture.Pooling.allCases.map(\.rawValue)),
        "residual": .words(["true", "false"]),
        "head": .integers(0...4096),
        "activation": .words(Activation.Kind.allCases.map(\.rawValue)),
        "dropout": .reals(0...0.9, openBelow: false),
        "optimizer": .words(optimizers),
        "learning_rate": .reals(0...1, openBelow: true),
        "batch_size": .integers(1...4096),
        "weight_decay": .reals(0...1, openBelow: false),
        "momentum": .reals(0...0.999, openBelow: false),
    ]
    private static let indexed: [String: Int] = ["width": maximumLayers, "channels": maximumBlocks, "kernel": maximumBlocks]

    enum Rule {
        case words([String])
        case integers(ClosedRange<Int>, odd: Bool = false)
        case reals(ClosedRange<Double>, openBelow: Bool)

        func check(_ value: ParameterValue) -> String? {
            switch self {
            case .words(let words):
                return words.contains(value.description) ? nil : "must be one of \(words.joined(separator: ", ")), got '\(PrintableText.escaped(value.description, limit: 40))'"
            case .integers(let range, let odd):
                guard case .integer(let x) = value, range.contains(x), !odd || x % 2 == 1 else {
                    return "must be \(odd ? "an odd" : "an") integer in \(range.lowerBound)...\(range.upperBound), got '\(PrintableText.escaped(value.description, limit: 40))'"
                }
                return nil
            case .reals(let range, let openBelow):
                guard let x = value.number, range.contains(x), !(openBelow && x <= range.lowerBound) else {
                    return "must be a number in \(openBelow ? "(" : "[")\(range.lowerBound), \(range.upperBound)], got '\(PrintableText.escaped(value.description, limit: 40))'"
                }
                return nil
            }
        }
    }

    /// The rule for a setting's name, nil when the name means nothing.
    private static func rule(for name: String) -> Rule? {
        if let rule = rules[name] { return rule }
        for (base, count) in indexed where name.hasPrefix(base + "_") {
            if let index = Int(name.dropFirst(base.count + 1)), (1...count).contains(index) { return rules[base] }
        }
        return nil
    }

    /// Why `value` cannot be `name`'s value (or why the name is unknown); nil when it can.
    static func problem(_ name: String, _ value: ParameterValue) -> String? {
        guard let rule = rule(for: name) else {
            return "unknown setting '\(PrintableText.escaped(name, limit: 40))'; known: \(rules.keys.sorted().joined(separator: ", ")), and width_1…width_\(maximumLayers), channels_1…, kernel_1…"
        }
        return rule.check(value).map { "\(name) \($0)" }
    }

    /// Reads settings, checks each, and the model's size for images of `imageShape`.
    /// - Throws: `TaskError` naming `subject` and the setting at fault.
    /// The most values one convolution's output may hold for a whole batch (training's, or
    /// evaluation's 1,000 images): 2²⁷ floats, 512 MiB, kept for the backward pass.
    static let maximumFeatureMapValues = 1 << 27

    /// - Parameter batchSize: the batch the model will be trained with when the settings do
    ///   not say (a `train` spec keeps it at its top level).
    init(_ settings: [String: ParameterValue], imageShape: [Int], classes: Int, subject: String, batchSize trainingBatch: Int? = nil) throws(TaskError) {
        let rule = TaskRule(subject: subject)
        for name in settings.keys.sorted() {
            if let problem = Self.problem(name, settings[name]!) { throw rule.fail(problem) }
        }
        func value(_ name: String) -> ParameterValue? { settings[name] }
        func integer(_ name: String, default fallback: Int? = nil) throws(TaskError) -> Int {
            if case .integer(let x)? = value(name) { return x }
            guard let fallback else { throw rule.fail("\(name) is required") }
            return fallback
        }
        func indexed(_ base: String, _ index: Int, default fallback: Int? = nil) throws(TaskError) -> Int {
            if case .integer(let x)? = value("\(base)_\(index)") { return x }
            if case .integer(let x)? = value(base) { return x }
            guard let fallback else { throw rule.fail("\(base)_\(index) (or \(base)) is required") }
            return fallback
        }
        guard let familyName = value("family")?.description, let family = ImageClassifierArchitecture.Family(rawValue: familyName) else {
            throw rule.fail("family is required (mlp or cnn)")
        }
        var architecture = ImageClassifierArchitecture(family: family, hidden: [])
        switch family {
        case .mlp:
            let depth = try integer("depth")
            architecture.hidden = try (0..<depth).map { (i) throws(TaskError) in try indexed("width", i + 1) }
        case .cnn:
            let blocks = try integer("blocks")
            architecture.blocks = try (1...blocks).map { (i) throws(TaskError) in
                ImageClassifierArchitecture.Block(channels: try indexed("channels", i), kernel: try indexed("kernel", i, default: 3))
            }
            let head = try integer("head", default: 0)
            architecture.hidden = head > 0 ? [head] : []
        }
        architecture.pooling = value("pooling").flatMap { ImageClassifierArchitecture.Pooling(rawValue: $0.description) } ?? .max
        architecture.residual = value("residual")?.description == "true"
        architecture.activation = value("activation").flatMap { Activation.Kind(rawValue: $0.description) } ?? .relu
        architecture.dropout = value("dropout")?.number ?? 0
        self.architecture = architecture
        optimizer = value("optimizer")?.description ?? "adam"
        learningRate = value("learning_rate")?.number ?? 0.001
        batchSize = try integer("batch_size", default: 64)
        weightDecay = value("weight_decay")?.number ?? (optimizer == "adamw" ? 0.01 : 0)
        momentum = value("momentum")?.number ?? 0.9
        do {
            _ = try architecture.parameterCount(imageShape: imageShape, classes: classes, limit: Self.maximumParameters)
        } catch {
            throw rule.fail(error.description)
        }
        // Fewer parameters than the limit can still mean feature maps the size of the machine
        // (512 channels at 28×28 for 4,096 images): bounded before anything is allocated.
        let rows = max(trainingBatch ?? batchSize, ClassifierEvaluation.batchSize)
        let perImage = architecture.largestFeatureMap(imageShape: imageShape)
        guard perImage <= Self.maximumFeatureMapValues / rows else {
            throw rule.fail("a convolution's output would hold \(perImage) values per image, \(rows) images at once: more than \(Self.maximumFeatureMapValues)")
        }
    }

    /// The optimizer over `parameters`.
    func makeOptimizer(_ parameters: [Tensor]) -> any Optimizer {
        // The recipe's rule admits only known names; Adam stands for none.
        OptimizerChoice.make(optimizer, parameters: parameters, learningRate: Float(learningRate), momentum: Float(momentum), weightDecay: Float(weightDecay))
            ?? Adam(parameters: parameters, learningRate: Float(learningRate), weightDecay: Float(weightDecay))
    }
}

extension ArchitectureRecipe {
    /// The settings that train a model rather than shape it: a `train` spec keeps them at
    /// its top level, a `nas` space may search them.
    static let trainingSettings: Set<String> = ["optimizer", "learning_rate", "batch_size", "weight_decay", "momentum"]

    /// Reads an `architecture:` section: every field one known setting with a value its rule
    /// allows, errors at the field's line.
    static func settings(from section: SpecMapping, allowTraining: Bool) throws(SpecError) -> [String: ParameterValue] {
        var settings: [String: ParameterValue] = [:]
        for key in section.keys {
            let node = section.optional(key)!
            if !allowTraining && trainingSettings.contains(key) { throw node.error("is set at the spec's top level, not in architecture") }
            let value = ParameterValue(parsing: try node.string(maximumBytes: 64))
            if let problem = problem(key, value) { throw node.error(problem) }
            settings[key] = value
        }
        return settings
    }
}
