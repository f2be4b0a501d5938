import Foundation
import NN
import Tensor
import Testing

@testable import Workloads

/// A saved `train` model rebuilt from its spec and weights, and its pixels explained.
@Suite("Trained classifiers, rebuilt and explained")
struct TrainedClassifierTests {
    static func spec(hidden: Int, path: String) -> String {
        "name: digits-saved\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [\(hidden)]\n  epochs: 2\n  batch_size: 32\n  seed: 11\n  save: \(path)\n"
    }

    @Test("the rebuilt model scores the test split as the job reported; its pixel attributions add up and favour the predicted class")
    func rebuildAndExplain() throws {
        let path = NSTemporaryDirectory() + "orrery-saved-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = Self.spec(hidden: 24, path: path)
        let run = try LocalJobRunner.run(try JobSpec.parse(yaml: yaml, source: "saved.yaml", registry: .builtIn))
        #expect(run.failure == nil)
        let reported = try #require(try JSONSerialization.jsonObject(with: Data(run.report.json.utf8)) as? [String: Double])

        let classifier = try TrainedClassifier.load(specYAML: yaml, source: "saved.yaml", weights: path)
        let scored = try ClassifierEvaluation.evaluate(classifier.model, on: classifier.test)
        #expect(scored.accuracy == reported["test_accuracy"], "the weights did not come back as trained")

        let result = try classifier.explain(image: 5)
        #expect(result.attributions.count == classifier.test.imageShape.reduce(1, *))
        #expect(result.classIndex == result.probabilities.indices.max { result.probabilities[$0] < result.probabilities[$1] })
        let gap = try #require(result.completenessGap)
        #expect(gap <= 0.01, "completeness gap \(gap) after \(result.steps) steps")
        #expect(abs(result.score - log(result.probabilities[result.classIndex])) < 1e-4)
        // Another class, asked for by number.
        let other = (result.classIndex + 1) % result.probabilities.count
        #expect(try classifier.explain(image: 5, classIndex: other).classIndex == other)
        #expect(throws: TaskError.self) { try classifier.explain(image: classifier.test.count) }
        #expect(throws: TaskError.self) { try classifier.explain(image: 0, classIndex: 99) }
    }

    @Test("weights of another shape, a spec of another workload and a missing file are refused by name")
    func refusals() throws {
        let path = NSTemporaryDirectory() + "orrery-saved-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try LocalJobRunner.run(try JobSpec.parse(yaml: Self.spec(hidden: 24, path: path), source: "saved.yaml", registry: .builtIn))
        #expect(throws: (any Error).self) { try TrainedClassifier.load(specYAML: Self.spec(hidden: 32, path: path), source: "wider.yaml", weights: path) }
        let sweep = "name: s\nworkload: sweep\nsweep:\n  function: branin\n"
        #expect { try TrainedClassifier.load(specYAML: sweep, source: "sweep.yaml", weights: path) } throws: { "\($0)".contains("sweep job") }
        #expect { try TrainedClassifier.load(specYAML: Self.spec(hidden: 24, path: path), source: "saved.yaml", weights: path + ".missing") } throws: {
            "\($0)".contains(".missing")
        }
    }
}
