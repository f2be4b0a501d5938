import Foundation
import OrreryTestSupport
import Testing
import Workloads

/// Training on real Fashion-MNIST (fetched by scripts/fetch-data), end to end through the
/// `train` workload.
@Suite("Training on Fashion-MNIST", .serialized)
struct TrainTests {
    func run(_ yaml: String) throws -> [String: Double] {
        let job = try JobSpec.parse(yaml: yaml, source: "train.yaml", registry: .builtIn)
        let result = try LocalJobRunner.run(job)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        return try JSONSerialization.jsonObject(with: Data(result.report.json.utf8)) as? [String: Double] ?? [:]
    }

    @Test("an MLP 784-256-256-10 reaches at least 88% test accuracy within 5 epochs")
    func mlpAccuracy() throws {
        let path = PackageRoot.url.appendingPathComponent("jobs/fashion-mlp.yaml").path
        let metrics = try run(String(contentsOfFile: path, encoding: .utf8))
        let accuracy = try #require(metrics["test_accuracy"])
        #expect(accuracy >= 0.88, "test accuracy \(accuracy)")
        #expect(metrics["epochs"] == 5)
    }

    @Test("small real data sets learn: digits and MNIST-5k well above chance", arguments: [("digits", 0.9), ("mnist-5k", 0.85)])
    func smallDataSets(dataset: String, bar: Double) throws {
        let metrics = try run(
            "name: small\nworkload: train\ntrain:\n  dataset: \(dataset)\n  hidden: [128]\n  batch_size: 32\n  epochs: 10\n  seed: 3\n")
        let accuracy = try #require(metrics["test_accuracy"])
        #expect(accuracy >= bar, "\(dataset): test accuracy \(accuracy)")
    }

    @Test("a small CNN reaches at least 90% test accuracy within 5 epochs")
    func cnnAccuracy() throws {
        let path = PackageRoot.url.appendingPathComponent("jobs/fashion-cnn.yaml").path
        let metrics = try run(String(contentsOfFile: path, encoding: .utf8))
        let accuracy = try #require(metrics["test_accuracy"])
        #expect(accuracy >= 0.90, "test accuracy \(accuracy)")
        #expect(metrics["epochs"] == 5)
    }

    @Test("a seeded run is bit-identical when repeated")
    func reproducible() throws {
        let directory = NSTemporaryDirectory()
        var files: [Data] = []
        for attempt in 0..<2 {
            let path = "\(directory)/orrery-repeat-\(getpid())-\(attempt).safetensors"
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try run(
                """
                name: repeat
                workload: train
                train:
                  dataset: fashion-mnist
                  hidden: [64]
                  optimizer: sgd
                  momentum: 0.9
                  batch_size: 32
                  epochs: 1
                  train_limit: 3000
                  seed: 5
                  save: \(path)
                """)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        #expect(files[0] == files[1])
        #expect(files[0].count > 784 * 64 * 4)
    }

    @Test("a spec naming an unknown optimizer or a bad rate fails before training, naming the line")
    func badSpec() {
        let spec = "name: x\nworkload: train\ntrain:\n  dataset: fashion-mnist\n  optimizer: lbfgs\n"
        let error = #expect(throws: SpecError.self) { try JobSpec.parse(yaml: spec, source: "t.yaml", registry: .builtIn) }
        #expect(error?.description.hasPrefix("t.yaml:5:14: train.optimizer: expected one of sgd, adam, adamw") == true)
    }
}
