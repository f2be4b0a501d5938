import Datasets
import Foundation
import NN
import OrreryTestSupport
import Tensor
import Testing
import Wire

@testable import Workloads

@Suite("Meta-learning: residual embeddings and meta-validation's choice")
struct MetaValidationTests {
    @Test("a residual MLP starts as the identity, and its gradients match central differences")
    func residualNetwork() throws {
        let network = FunctionalResidualMLP(inputWidth: 9, hiddenWidths: [6], headOutputs: nil)
        #expect(network.parameterNames == ["layers.0.weight", "layers.0.bias", "residual.weight", "residual.bias"])
        #expect(network.parameterCount == 6 * 9 + 6 + 9 * 6 + 9)
        var generator = SplitMix64(seed: 4)
        let parameters = network.initialParameters(using: &generator)
        let input = Tensor.uniform([5, 9], low: -1, high: 1, using: &generator)
        #expect(try network(input, parameters).scalars == input.scalars)

        // At the start only the projection learns: the hidden layer's path runs through it.
        let targets = Tensor.uniform([5, 9], using: &generator)
        let loss = { (parameters: [Tensor]) throws -> Tensor in try (network(input, parameters) - targets).squared().sum() }
        let start = try loss(parameters).gradients(withRespectTo: parameters)
        #expect(start[0].scalars.allSatisfy { $0 == 0 } && start[2].scalars.contains { $0 != 0 })

        // Away from the start every parameter has a gradient, equal to central differences.
        let moved = parameters.map { Tensor.uniform($0.shape, low: -0.5, high: 0.5, using: &generator).requiringGrad() }
        let analytic = try loss(moved).gradients(withRespectTo: moved)
        for (index, parameter) in moved.enumerated() {
            for position in [0, parameter.count / 2, parameter.count - 1] {
                let step: Float = 1e-2
                func shifted(_ delta: Float) throws -> Float {
                    var values = parameter.scalars
                    values[position] += delta
                    var copy = moved
                    copy[index] = Tensor(shape: parameter.shape, storage: Storage(values))
                    return try loss(copy).item
                }
                let numeric = (try shifted(step) - shifted(-step)) / (2 * step)
                let exact = analytic[index].scalars[position]
                #expect(abs(numeric - exact) <= 2e-2 * (1 + abs(exact)), "parameter \(index)[\(position)]: \(exact) vs \(numeric)")
            }
        }
    }

    @Test("meta-validation keeps the strictly best scoring: a tie or NaN keeps the earlier step")
    func selectionRule() {
        let validation = MetaValidation(every: 5, shapes: [[2]]) { 0 }
        let parameters = [Tensor(shape: [2], storage: Storage([0, 0]))]
        for (step, accuracy) in [(0, 0.5), (5, 0.7), (10, 0.7), (15, .nan), (20, 0.6)] {
            parameters[0].storage.withUnsafeMutableBufferPointer { $0[0] = Float(step) }
            validation.consider(step: step, accuracy: accuracy, parameters: parameters)
        }
        #expect(validation.best?.step == 5 && validation.best?.accuracy == 0.7)
        #expect(validation.history.map(\.step) == [0, 5, 10, 15, 20])
        validation.restoreBest(into: parameters)
        #expect(parameters[0].scalars == [5, 0], "the kept copy is the step-5 parameters, not a reference to the live ones")
        #expect(validation.isDue(afterStep: 4, of: 12) && !validation.isDue(afterStep: 5, of: 12) && validation.isDue(afterStep: 11, of: 12))
    }

    @Test("meta-validation's record survives a checkpoint; one that does not fit the task is refused by name")
    func checkpointRoundTrip() throws {
        let shapes: [Shape] = [[2, 3], [3]]
        let live = [Tensor.zeros([2, 3]).requiringGrad(), Tensor.zeros([3]).requiringGrad()]
        let optimizer = Adam(parameters: live, learningRate: 0.1)
        let named = [(name: "w", tensor: live[0]), (name: "b", tensor: live[1])]
        let original = MetaValidation(every: 2, shapes: shapes) { 0 }
        var generator = SplitMix64(seed: 1)
        let best = shapes.map { Tensor.uniform($0, using: &generator) }
        original.consider(step: 0, accuracy: 0.25, parameters: best)
        original.consider(step: 2, accuracy: 0.125, parameters: live)
        let data = try TrainingCheckpoint.encode(
            parameters: named, optimizer: optimizer, step: 2, metadata: original.checkpointMetadata, kept: original.checkpointTensors)

        let restored = try TrainingCheckpoint.restoreWithMetadata(data, parameters: named, optimizer: optimizer)
        let resumed = MetaValidation(every: 2, shapes: shapes) { 0 }
        try resumed.restore(tensors: restored.kept, metadata: restored.metadata)
        #expect(resumed.best?.step == 0 && resumed.best?.accuracy == 0.25)
        #expect(resumed.best?.parameters.map(\.scalars) == best.map(\.scalars))
        #expect(resumed.history.map(\.step) == [0, 2] && resumed.history.map(\.accuracy) == [0.25, 0.125])

        let other = MetaValidation(every: 2, shapes: [[3, 2], [3]]) { 0 }
        #expect { try other.restore(tensors: restored.kept, metadata: restored.metadata) } throws: { "\($0)".contains("shapes") }
        var garbled = restored.metadata
        garbled["orrery.validation.best"] = "zero:one"
        #expect { try resumed.restore(tensors: restored.kept, metadata: garbled) } throws: { "\($0)".contains("orrery.validation") }
    }

    // MARK: The real executor on WordNet glosses through MiniLM

    static let spec = """
        name: v
        workload: meta-learn
        meta-learn:
          benchmark: wordnet-minilm
          algorithm: protonet
          ways: 5
          shots: 1
          queries: 5
          outer_lr: 0.001
          meta_batch: 4
          meta_steps: 24
          hidden: [32]
          residual: true
          class_descriptions: true
          validate_every: 4
          validation_episodes: 40
          eval_episodes: 40
          checkpoint_every: 8
          seed: 5
        """

    static func task(_ edit: (inout Orrery_V1_Workloads_MetaLearnTask) -> Void = { _ in }) throws -> Orrery_V1_Workloads_MetaLearnTask {
        let planner = try JobSpec.parse(yaml: spec, source: "v.yaml", registry: .builtIn).planner
        var task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_MetaLearnTask.self, from: planner.start()[0].payload)
        edit(&task)
        return task
    }

    static func run(_ task: Orrery_V1_Workloads_MetaLearnTask, resume: TaskCheckpoint? = nil, commits: NASTests.CheckpointBox? = nil) throws -> MetaLearnResult {
        let context = TaskContext(
            taskID: "meta", attempt: 1, resume: resume, isCancelled: { false }, reportProgress: { _, _ in },
            commitCheckpoint: { commits?.append($0) })
        let output = try MetaLearnExecutor().execute(EnvelopeCodec.encodePayload(task), context: context)
        return try JSONDecoder().decode(MetaLearnResult.self, from: output.payload)
    }

    @Test("the kept meta-parameters are those of the best-scored step, bit for bit; a run resumed from a checkpoint chooses alike")
    func chosenStep() throws {
        let commits = NASTests.CheckpointBox()
        let validated = try Self.run(try Self.task(), commits: commits)
        let choice = try #require(validated.validation)
        #expect(choice.history.map(\.step) == [0, 4, 8, 12, 16, 20, 24])
        let best = try #require(choice.history.max { $0.accuracy < $1.accuracy || ($0.accuracy == $1.accuracy && $0.step > $1.step) })
        #expect(choice.step == best.step && choice.accuracy == best.accuracy)
        // The residual network at step 0 is MiniLM itself: description and shot averaged.
        #expect(choice.history[0].accuracy > 0.4, "\(choice.history)")

        // Meta-training stopped at the chosen step (0: not at all) ends with the same meta-parameters.
        let stopped = try Self.run(try Self.task { $0.metaSteps = UInt32(choice.step); $0.validateEvery = 0; $0.checkpointEvery = 0 })
        #expect(stopped.metaParametersSHA256 == validated.metaParametersSHA256)
        #expect(stopped.rows == validated.rows)
        // A run resumed from the step-16 checkpoint (its record of scorings 0–16 inside)
        // ends as the undisturbed one.
        let checkpoint = try #require(commits.all.first { $0.step == 16 })
        let resumed = try Self.run(try Self.task(), resume: checkpoint)
        #expect(resumed.resumedAt == 16)
        #expect(resumed.validation == validated.validation)
        #expect(resumed.metaParametersSHA256 == validated.metaParametersSHA256)
    }

    @Test("validation fields are refused where they make no sense, naming them")
    func refusals() throws {
        let yaml = Self.spec.replacingOccurrences(of: "  validate_every: 4\n", with: "")
        #expect { try JobSpec.parse(yaml: yaml, source: "v.yaml", registry: .builtIn) } throws: { "\($0)".contains("validate_every") }
        let cnn = Self.spec.replacingOccurrences(of: "benchmark: wordnet-minilm", with: "benchmark: rotated-images\n  model: cnn")
            .replacingOccurrences(of: "  class_descriptions: true\n", with: "")
        #expect { try JobSpec.parse(yaml: cnn, source: "v.yaml", registry: .builtIn) } throws: { "\($0)".contains("residual") }
        var task = try Self.task()
        task.validationEpisodes = 0
        #expect { try MetaLearnRules.validate(task) } throws: { "\($0)".contains("validation_episodes") }
        task = try Self.task()
        task.residual = true
        task.model = "cnn"
        task.benchmark = "rotated-images"
        task.classDescriptions = false
        #expect { try MetaLearnRules.validate(task) } throws: { "\($0)".contains("residual") }
    }
}
