import Datasets
import Foundation
import NN
import OrreryTestSupport
import Tensor
import Testing
import Wire

@testable import Workloads

@Suite("Meta-learning: episodes and algorithms")
struct MetaLearnTests {
    /// 10 classes of 2 × 2 images; every value names its class and example.
    static func syntheticPool() -> ClassPool {
        var pool = ClassPool(features: 4)
        for label in 0..<10 {
            let pixels = (0..<20).flatMap { example in (0..<4).map { Float(label * 1000 + example * 10 + $0) } }
            pool.add(name: "c\(label)", source: "s\(label)", values: pixels)
        }
        return pool
    }

    @Test("rotations: four quarter turns are the identity, one turns counter-clockwise")
    func rotation() {
        let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        #expect(ImageTransform.rotate(image, side: 3, quarterTurns: 1) == [3, 6, 9, 2, 5, 8, 1, 4, 7])
        #expect(ImageTransform.rotate(image, side: 3, quarterTurns: 4) == image)
        #expect(ImageTransform.rotate(ImageTransform.rotate(image, side: 3, quarterTurns: 3), side: 3, quarterTurns: 1) == image)
    }

    @Test("resizing: halving averages 2 × 2 blocks, the same size copies, enlarging keeps the range")
    func resize() {
        let image: [Float] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
        #expect(ImageTransform.resize(image[...], from: 4, to: 2) == [5, 9, 21, 25])
        #expect(ImageTransform.resize(image[...], from: 4, to: 4) == image)
        let enlarged = ImageTransform.resize(image[...], from: 4, to: 7)
        #expect(enlarged.count == 49 && enlarged.min()! >= 0 && enlarged.max()! <= 30 && enlarged.first == 0 && enlarged.last == 30)
    }

    @Test("an episode depends only on its seed and index; support and query are disjoint, class-major, from the split")
    func episodes() throws {
        let pool = Self.syntheticPool()
        let split = [0, 2, 3, 5, 7, 8, 9]
        let sampler = try EpisodeSampler(pool: pool, classes: split, ways: 5, shots: 3, queries: 4)
        let a = sampler.episode(seed: 4, index: 17), b = sampler.episode(seed: 4, index: 17)
        #expect(a.support.scalars == b.support.scalars && a.query.scalars == b.query.scalars && a.classes == b.classes)
        #expect(sampler.episode(seed: 4, index: 18).support.scalars != a.support.scalars)
        #expect(sampler.episode(seed: 5, index: 17).support.scalars != a.support.scalars)
        #expect(Set(a.classes).count == 5 && a.classes.allSatisfy(split.contains))
        #expect(a.supportLabels == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
        #expect(a.queryLabels == (0..<5).flatMap { Array(repeating: $0, count: 4) })
        // Each row's class (its first value / 1000) is the class drawn for its label, and
        // no example appears twice in an episode.
        let supportRows = a.support.scalars.chunked(4), queryRows = a.query.scalars.chunked(4)
        for (row, label) in zip(supportRows, a.supportLabels) { #expect(Int(row[0]) / 1000 == a.classes[label]) }
        for (row, label) in zip(queryRows, a.queryLabels) { #expect(Int(row[0]) / 1000 == a.classes[label]) }
        #expect(Set((supportRows + queryRows).map { $0[0] }).count == supportRows.count + queryRows.count)
        #expect(throws: DatasetError.self) { try EpisodeSampler(pool: pool, classes: split, ways: 8, shots: 1, queries: 1) }
        #expect(throws: DatasetError.self) { try EpisodeSampler(pool: pool, classes: split, ways: 5, shots: 15, queries: 6) }
    }

    @Test("rotated-images: 120 classes, splits of 72 / 12 / 36 that share no source class")
    func benchmarkSplits() throws {
        let benchmark = try FewShotBenchmark.load("rotated-images", side: 14)
        #expect(benchmark.pool.classes.count == 120)
        #expect(benchmark.splits[.metaTrain]?.count == 72)
        #expect(benchmark.splits[.metaValidation]?.count == 12)
        #expect(benchmark.splits[.metaTest]?.count == 36)
        let sources = FewShotSplit.allCases.map { split in Set(benchmark.splits[split]!.map { benchmark.pool.classes[$0].source }) }
        #expect(sources[0].isDisjoint(with: sources[1]) && sources[0].isDisjoint(with: sources[2]) && sources[1].isDisjoint(with: sources[2]))
        #expect(benchmark.pool.classes.allSatisfy { $0.count >= 150 && $0.values.allSatisfy { $0 >= 0 && $0 <= 1 } })
        #expect(throws: DatasetError.self) { try FewShotBenchmark.load("omniglot", side: 14) }
    }

    @Test("wordnet-minilm: 45 categories of MiniLM-embedded glosses split 27 / 6 / 12; zero-shot on descriptions beats chance")
    func textBenchmark() throws {
        let benchmark = try TextFewShotBenchmark.wordnet.load()
        #expect(benchmark.pool.classes.count == 45 && benchmark.pool.features == 384)
        #expect(benchmark.splits[.metaTrain]?.count == 27 && benchmark.splits[.metaValidation]?.count == 6 && benchmark.splits[.metaTest]?.count == 12)
        let first = benchmark.pool.classes[0].values.prefix(384)
        #expect(abs(first.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3, "embeddings are unit vectors")
        let descriptions = try #require(benchmark.descriptions)
        #expect(descriptions.count == 45)
        let sampler = try benchmark.sampler(.metaTest, ways: 5, shots: 1, queries: 10)
        let accuracy = try (0..<40).map { try MetaLearnExecutor.zeroShotAccuracy(sampler.episode(seed: 1, index: $0), descriptions: descriptions) }
            .reduce(0, +) / 40
        #expect(accuracy > 0.35, "zero-shot accuracy \(accuracy) on 5-way episodes (chance 0.2)")
        #expect(TextFewShotBenchmark.describeWordNet("noun.animal") == "a definition of a noun about animal")
    }

    @Test("topics-minilm: 40 fortune topics and BBC's 5, embedded by MiniLM, split 27 / 6 / 12; zero-shot on descriptions beats chance")
    func topicsBenchmark() throws {
        let benchmark = try TextFewShotBenchmark.topics.load()
        let names = benchmark.pool.classes.map(\.name)
        #expect(names.count == 45 && names.filter { $0.hasPrefix("news.") }.count == 5 && names.contains("fortune.love"))
        #expect(benchmark.splits[.metaTrain]?.count == 27 && benchmark.splits[.metaValidation]?.count == 6 && benchmark.splits[.metaTest]?.count == 12)
        #expect(benchmark.pool.classes.allSatisfy { (30...120).contains($0.count) }, "every topic keeps 30–120 texts")
        let descriptions = try #require(benchmark.descriptions)
        let sampler = try benchmark.sampler(.metaTest, ways: 5, shots: 1, queries: 10)
        let accuracy = try (0..<40).map { try MetaLearnExecutor.zeroShotAccuracy(sampler.episode(seed: 1, index: $0), descriptions: descriptions) }
            .reduce(0, +) / 40
        #expect(accuracy > 0.3, "zero-shot accuracy \(accuracy) on 5-way episodes (chance 0.2)")
        #expect(TextFewShotBenchmark.describeTopic("fortune.men-women") == "a quotation about men and women")
        #expect(TextFewShotBenchmark.describeTopic("news.tech") == "a news article about technology")
    }

    static func episode() throws -> Episode {
        var generator = SplitMix64(seed: 3)
        var pool = ClassPool(features: 9)
        for label in 0..<6 { pool.add(name: "\(label)", source: "\(label)", values: Tensor.uniform([8 * 9], using: &generator).scalars) }
        return try EpisodeSampler(pool: pool, classes: Array(0..<6), ways: 3, shots: 2, queries: 2).episode(seed: 1, index: 0)
    }

    static func parameters(_ network: any FunctionalNetwork) -> [Tensor] {
        var generator = SplitMix64(seed: 8)
        return network.initialParameters(using: &generator)
    }

    @Test("first-order MAML with no inner step is the query loss's gradient; MAML's second-order term shows once it takes steps")
    func mamlGradients() throws {
        let episode = try Self.episode()
        let network = FunctionalMLP(bodyWidths: [9, 6], headOutputs: 3)
        let theta = Self.parameters(network)
        let plain = try Tensor.crossEntropy(logits: network(episode.query, theta), targets: episode.queryLabels).gradients(withRespectTo: theta)
        let noSteps = InnerLoop(steps: 0, learningRate: 0.5)
        let first = try FirstOrderMAML(network: network, inner: noSteps).metaGradient(episode, parameters: theta).gradients
        let second = try MAML(network: network, inner: noSteps).metaGradient(episode, parameters: theta).gradients
        for index in theta.indices {
            #expect(allClose(first[index].scalars, plain[index].scalars) && allClose(second[index].scalars, plain[index].scalars))
        }
        let steps = InnerLoop(steps: 2, learningRate: 0.5)
        let fomaml = try FirstOrderMAML(network: network, inner: steps).metaGradient(episode, parameters: theta).gradients
        let maml = try MAML(network: network, inner: steps).metaGradient(episode, parameters: theta).gradients
        let difference = zip(fomaml, maml).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max()! }.max()!
        #expect(difference > 1e-4, "MAML and first-order MAML should differ by the second-order term")
        #expect(theta.allSatisfy { $0.grad == nil }, "meta-gradients must not be left in the meta-parameters")
    }

    @Test("Meta-SGD at its initial rates is MAML for the weights, and learns its rates")
    func metaSGD() throws {
        let episode = try Self.episode()
        let network = FunctionalMLP(bodyWidths: [9, 6], headOutputs: 3)
        let inner = InnerLoop(steps: 2, learningRate: 0.5)
        let metaSGD = MetaSGD(network: network, inner: inner)
        var generator = SplitMix64(seed: 8)
        let parameters = metaSGD.initialParameters(using: &generator)
        #expect(parameters.count == 8 && metaSGD.parameterNames.last == "inner_lr.head.bias")
        let weights = Array(parameters[..<4])
        let maml = try MAML(network: network, inner: inner).metaGradient(episode, parameters: weights).gradients
        let both = try metaSGD.metaGradient(episode, parameters: parameters).gradients
        for index in 0..<4 { #expect(allClose(both[index].scalars, maml[index].scalars, tolerance: 1e-4)) }
        #expect(both[4...].contains { abs($0.item) > 1e-6 }, "the rates get a meta-gradient")
        #expect(try metaSGD.adaptedAccuracy(episode, parameters: parameters) == FirstOrderMAML(network: network, inner: inner).adaptedAccuracy(episode, parameters: weights))
    }

    @Test("Reptile's meta-gradient after one step is the inner learning rate times the support gradient")
    func reptileGradient() throws {
        let episode = try Self.episode()
        let network = FunctionalMLP(bodyWidths: [9, 6], headOutputs: 3)
        let theta = Self.parameters(network)
        let support = try Tensor.crossEntropy(logits: network(episode.support, theta), targets: episode.supportLabels).gradients(withRespectTo: theta)
        let reptile = try Reptile(network: network, inner: InnerLoop(steps: 1, learningRate: 0.25)).metaGradient(episode, parameters: theta)
        for index in theta.indices { #expect(allClose(reptile.gradients[index].scalars, support[index].scalars.map { $0 * 0.25 }, tolerance: 1e-4)) }
    }

    @Test("prototypical logits are the negative squared distances to the class means")
    func prototypes() throws {
        let episode = try Self.episode()
        let network = FunctionalMLP(bodyWidths: [9, 4], headOutputs: nil)
        let theta = Self.parameters(network)
        let logits = try PrototypicalNetwork(network: network).logits(episode, theta).scalars
        let support = try network(episode.support, theta).scalars.chunked(4), query = try network(episode.query, theta).scalars.chunked(4)
        for (q, row) in query.enumerated() {
            for way in 0..<episode.ways {
                let members = support[(way * episode.shots)..<((way + 1) * episode.shots)]
                let prototype = (0..<4).map { d in members.map { $0[d] }.reduce(0, +) / Float(episode.shots) }
                let distance = zip(row, prototype).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                #expect(abs(logits[q * episode.ways + way] + distance) < 1e-4 * (1 + distance))
            }
        }
    }

    @Test("a meta-learn task arriving with bad fields is refused naming the field")
    func hostileTask() throws {
        var task = try MetaLearnTests.validTask()
        task.ways = 0
        #expect(throws: TaskError.self) { try MetaLearnRules.validate(task) }
        task = try MetaLearnTests.validTask()
        task.algorithm = "magic"
        #expect { try MetaLearnRules.validate(task) } throws: { "\($0)".contains("algorithm") }
        task = try MetaLearnTests.validTask()
        task.innerLr = .nan
        #expect { try MetaLearnRules.validate(task) } throws: { "\($0)".contains("inner_lr") }
    }

    static func validTask() throws -> Orrery_V1_Workloads_MetaLearnTask {
        let planner = try JobSpec.parse(yaml: "name: m\nworkload: meta-learn\nmeta-learn:\n  algorithm: anil\n", source: "m.yaml", registry: .builtIn).planner
        return try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_MetaLearnTask.self, from: planner.start()[0].payload)
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
