import Datasets
import LanguageModels
import Tensor

/// One prompt in a search space: an index into each of the space's lists. Small, hashable
/// and codable, so it travels in task payloads and keys the score cache.
public struct PromptCandidate: Hashable, Sendable, Codable, CustomStringConvertible {
    public var instruction: Int
    public var template: Int
    public var verbalizer: Int
    /// Index into `PromptSpace.demonstrationCounts`: how many examples per class to show.
    public var demonstrations: Int
    /// Which draw of demonstrations (a seed for picking them from the demonstration pool).
    public var demonstrationDraw: Int

    public init(instruction: Int = 0, template: Int = 0, verbalizer: Int = 0, demonstrations: Int = 0, demonstrationDraw: Int = 0) {
        self.instruction = instruction
        self.template = template
        self.verbalizer = verbalizer
        self.demonstrations = demonstrations
        self.demonstrationDraw = demonstrationDraw
    }

    public var description: String { "i\(instruction).t\(template).v\(verbalizer).d\(demonstrations).s\(demonstrationDraw)" }

    var genes: [Int] { [instruction, template, verbalizer, demonstrations, demonstrationDraw] }

    init(genes: [Int]) { self.init(instruction: genes[0], template: genes[1], verbalizer: genes[2], demonstrations: genes[3], demonstrationDraw: genes[4]) }
}

/// What a prompt search may vary: instructions, templates (with `{text}`), verbalizer sets
/// (one word or phrase per class), how many demonstrations per class, and how many
/// different draws of demonstrations to try. Candidate 0 of every list is the baseline.
///
/// It gives the `Search` strategies what they need: every candidate (exhaustive, halving),
/// seeded samples (random), and mutation and crossover (evolution).
public struct PromptSpace: Sendable, Equatable {
    public let instructions: [String]
    public let templates: [String]
    public let verbalizers: [[String]]
    public let demonstrationCounts: [Int]
    public let demonstrationDraws: Int

    public init(instructions: [String], templates: [String], verbalizers: [[String]], demonstrationCounts: [Int] = [0], demonstrationDraws: Int = 1) {
        precondition(!instructions.isEmpty && !templates.isEmpty && !verbalizers.isEmpty && !demonstrationCounts.isEmpty && demonstrationDraws >= 1)
        self.instructions = instructions
        self.templates = templates
        self.verbalizers = verbalizers
        self.demonstrationCounts = demonstrationCounts
        self.demonstrationDraws = demonstrationDraws
    }

    /// Choices per gene, in `PromptCandidate.genes` order.
    var choices: [Int] { [instructions.count, templates.count, verbalizers.count, demonstrationCounts.count, demonstrationDraws] }

    /// Distinct candidates: a draw of zero demonstrations is the same prompt whatever its
    /// number, so those count once.
    public var size: Int {
        let withoutDraws = instructions.count * templates.count * verbalizers.count
        let showing = demonstrationCounts.filter { $0 > 0 }.count
        return withoutDraws * (demonstrationCounts.count - showing + showing * demonstrationDraws)
    }

    /// The same space with more instructions after its own (rewrites), so that every
    /// existing candidate keeps its meaning.
    public func adding(instructions more: [String]) -> PromptSpace {
        PromptSpace(
            instructions: instructions + more, templates: templates, verbalizers: verbalizers,
            demonstrationCounts: demonstrationCounts, demonstrationDraws: demonstrationDraws)
    }

    /// Every distinct candidate, in a fixed order (the first gene varies slowest).
    public func all() -> [PromptCandidate] {
        var result: [[Int]] = [[]]
        for count in choices { result = result.flatMap { prefix in (0..<count).map { prefix + [$0] } } }
        return result.map(PromptCandidate.init(genes:)).filter { $0 == canonical($0) }
    }

    /// The candidate with its draw set to 0 when it shows no demonstrations, so that
    /// candidates that render alike are equal.
    public func canonical(_ candidate: PromptCandidate) -> PromptCandidate {
        var result = candidate
        if demonstrationCounts[candidate.demonstrations] == 0 { result.demonstrationDraw = 0 }
        return result
    }

    public func sample(_ generator: inout SplitMix64) -> PromptCandidate {
        canonical(PromptCandidate(genes: choices.map { Int(generator.next() % UInt64($0)) }))
    }

    /// The same candidate with one gene (that has a choice) changed to another value (and
    /// the draw reset when that leaves no demonstrations).
    public func mutate(_ candidate: PromptCandidate, _ generator: inout SplitMix64) -> PromptCandidate {
        // The draw gene means nothing while no demonstrations are shown.
        let shows = demonstrationCounts[candidate.demonstrations] > 0
        let variable = choices.indices.filter { choices[$0] > 1 && ($0 != 4 || shows) }
        guard !variable.isEmpty else { return candidate }
        var genes = candidate.genes
        let gene = variable[Int(generator.next() % UInt64(variable.count))]
        genes[gene] = (genes[gene] + 1 + Int(generator.next() % UInt64(choices[gene] - 1))) % choices[gene]
        return canonical(PromptCandidate(genes: genes))
    }

    /// Each gene from one parent or the other, at random.
    public func crossover(_ a: PromptCandidate, _ b: PromptCandidate, _ generator: inout SplitMix64) -> PromptCandidate {
        canonical(PromptCandidate(genes: zip(a.genes, b.genes).map { generator.next() % 2 == 0 ? $0 : $1 }))
    }
}

/// A candidate made concrete for a scorer: instruction, the demonstrations drawn for it,
/// the template each text is put into, and one verbalizer per class. The scorer decides
/// how these become model input (`LikelihoodClassifier.prefix`, or class prototypes).
public struct RenderedPrompt: Sendable, Hashable {
    public let instruction: String
    public let demonstrations: [Demonstration]
    public let template: String
    public let verbalizers: [String]

    /// Renders `candidate`, drawing its demonstrations from `pool` (examples set aside from
    /// dev and never scored): `count` per class, picked and ordered by a seed made from the
    /// draw number, so the same candidate always shows the same demonstrations.
    public init(_ candidate: PromptCandidate, in space: PromptSpace, pool: LabeledText) {
        let perClass = space.demonstrationCounts[candidate.demonstrations]
        var generator = SplitMix64(seed: 0x5EED_0000 &+ UInt64(candidate.demonstrationDraw))
        var chosen: [Int] = []
        for label in pool.classes.indices where perClass > 0 {
            var rows = pool.targets.indices.filter { pool.targets[$0] == label }
            for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
            chosen += rows.prefix(perClass)
        }
        for i in stride(from: chosen.count - 1, to: 0, by: -1) { chosen.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        instruction = space.instructions[candidate.instruction]
        demonstrations = chosen.map { Demonstration(text: pool.texts[$0], label: pool.targets[$0]) }
        template = space.templates[candidate.template]
        verbalizers = space.verbalizers[candidate.verbalizer]
    }

    /// The shared prefix a language model sees (demonstrations uncut).
    public var prefix: String {
        LikelihoodClassifier.prefix(instruction: instruction, demonstrations: demonstrations, template: template, verbalizers: verbalizers)
    }
}
