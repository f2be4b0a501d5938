import Foundation
import OrreryTestSupport
import Testing
import Wire
@testable import Workloads

/// Tasks as a hostile coordinator could send them: each must end as a named, non-retryable
/// `TaskError` before anything is built, never as a trap, a division by zero or an
/// allocation the size of the machine (issue 14's crash list, one by one).
@Suite("Hostile task payloads")
struct HostileTaskTests {
    static func context(output: OutputDirectory? = nil) -> TaskContext {
        TaskContext(taskID: "fuzz/0", attempt: 1, outputDirectory: output, isCancelled: { false }, reportProgress: { _, _ in })
    }

    /// A task the spec parser would have produced for `digits`, then changed by `edit`.
    static func train(_ edit: (inout Orrery_V1_Workloads_TrainTask) -> Void) -> Data {
        var task = Orrery_V1_Workloads_TrainTask()
        task.dataset = "digits"
        task.model = "mlp"
        task.hidden = [8]
        task.channels = [4]
        task.activation = "relu"
        task.optimizer = "adam"
        task.schedule = "constant"
        task.learningRate = 0.01
        task.batchSize = 32
        task.epochs = 1
        task.bucketElements = 1 << 20
        edit(&task)
        return EnvelopeCodec.encodePayload(task)
    }

    /// Runs `workload`'s executor on `payload` and returns the refusal's message.
    func refusal(_ payload: Data, workload: any Workload = TrainWorkload(), context: TaskContext = context()) throws -> String {
        let executor = try workload.makeExecutor()
        do {
            _ = try executor.execute(payload, context: context)
        } catch let error as TaskError {
            #expect(!error.retryable, "a bad payload cannot succeed elsewhere: \(error)")
            return error.message
        }
        Issue.record("the task ran")
        return ""
    }

    typealias Edit = HostileEdit<Orrery_V1_Workloads_TrainTask>

    @Test(
        "train: every out-of-range field is refused by name",
        arguments: [
            Edit("batch_size") { $0.batchSize = 0 },
            Edit("hidden[0]") { $0.hidden = [0] },
            Edit("hidden[1]") { $0.hidden = [8, 4_000_000_000] },
            Edit("channels[0]") { $0.model = "cnn"; $0.channels = [0] },
            Edit("epochs") { $0.epochs = 0 },
            Edit("epochs") { $0.epochs = 4_000_000_000 },
            Edit("bucket_elements") { $0.bucketElements = 0 },
            Edit("learning_rate") { $0.learningRate = .nan },
            Edit("momentum") { $0.momentum = -.infinity },
            Edit("unknown model 'transformer'") { $0.model = "transformer" },
            Edit("unknown optimizer 'lion'") { $0.optimizer = "lion" },
            Edit("unknown schedule 'exponential'") { $0.schedule = "exponential" },
            Edit("unknown activation 'swish'") { $0.activation = "swish" },
            Edit("unknown dataset 'imagenet'") { $0.dataset = "imagenet" },
            Edit("workers_max") { $0.workersMin = 3; $0.workersMax = 2 },
            Edit("pooled to nothing") { $0.model = "cnn"; $0.channels = [4, 4, 4, 4] },
            Edit("parameters") { $0.hidden = [65536, 65536] },
        ])
    func trainRefusals(edit: Edit) throws {
        let message = try refusal(Self.train(edit.change))
        #expect(message.contains(edit.expected), "\(message)")
    }

    @Test("train: a model of millions of parameters is accepted (its checkpoints travel as files), one above the bound refused by its count")
    func trainModelSizeBound() throws {
        var task = try Orrery_V1_Workloads_TrainTask(serializedBytes: Self.train { $0.hidden = [4096, 1536] })
        let large = try TrainTaskRules.parameterCount(task, imageShape: [1, 28, 28], classes: 10)
        #expect(large == 784 * 4096 + 4096 + 4096 * 1536 + 1536 + 1536 * 10 + 10)
        task.hidden = [8192, 8192]
        #expect {
            _ = try TrainTaskRules.parameterCount(task, imageShape: [1, 28, 28], classes: 10)
        } throws: { error in "\(error)".contains("more than \(TrainTaskRules.maximumParameters) parameters") }
    }

    typealias MetaEdit = HostileEdit<Orrery_V1_Workloads_MetaLearnTask>

    @Test(
        "meta-learn: every out-of-range field is refused by name, before any data is loaded",
        arguments: [
            MetaEdit("ways") { $0.ways = 0 },
            MetaEdit("shots") { $0.shots = 0 },
            MetaEdit("queries") { $0.queries = 100_000 },
            MetaEdit("inner_steps") { $0.innerSteps = 1_000_000 },
            MetaEdit("meta_batch") { $0.metaBatch = 0 },
            MetaEdit("hidden[0]") { $0.hidden = [0] },
            MetaEdit("hidden") { $0.hidden = [] },
            MetaEdit("parameters") { $0.hidden = [4096, 4096] },
            MetaEdit("inner_lr") { $0.innerLr = .nan },
            MetaEdit("outer_lr") { $0.outerLr = -1 },
            MetaEdit("eval_shots[0]") { $0.evalShots = [0] },
            MetaEdit("image_size") { $0.imageSize = 20 },
            MetaEdit("unknown algorithm 'magic'") { $0.algorithm = "magic" },
            MetaEdit("unknown benchmark 'omniglot'") { $0.benchmark = "omniglot" },
            MetaEdit("workers_max") { $0.workersMin = 3; $0.workersMax = 2 },
            MetaEdit("class_descriptions") { $0.classDescriptions = true },
            MetaEdit("unknown model 'resnet'") { $0.model = "resnet" },
            MetaEdit("channels[0]") { $0.model = "cnn"; $0.channels = [0] },
            MetaEdit("pooling blocks do not fit") { $0.model = "cnn"; $0.channels = [8, 8, 8, 8] },
            MetaEdit("examples per episode") { $0.ways = 64; $0.evalShots = [100]; $0.queries = 100 },
            MetaEdit("eval_episodes × eval_shots") { $0.evalEpisodes = 100_000; $0.evalShots = [1, 5] },
            MetaEdit("feature maps") { $0.model = "cnn"; $0.imageSize = 28; $0.channels = [256]; $0.ways = 20; $0.shots = 100; $0.queries = 100 },
            MetaEdit("residual applies to model mlp") { $0.model = "cnn"; $0.channels = [4]; $0.residual = true },
            MetaEdit("validate_every") { $0.validateEvery = 20_000_000 },
            MetaEdit("validation_episodes") { $0.validateEvery = 5; $0.validationEpisodes = 0 },
            MetaEdit("validation_episodes") { $0.validateEvery = 5; $0.validationEpisodes = 1_000_000 },
            MetaEdit("meta-validation scorings") { $0.metaSteps = 10_000_000; $0.validateEvery = 1; $0.validationEpisodes = 1 },
        ])
    func metaLearnRefusals(edit: MetaEdit) throws {
        var task = Orrery_V1_Workloads_MetaLearnTask()
        (task.benchmark, task.algorithm, task.ways, task.shots, task.queries) = ("rotated-images", "protonet", 5, 1, 5)
        (task.innerSteps, task.innerLr, task.outerLr, task.metaBatch, task.metaSteps) = (1, 0.4, 0.001, 2, 1)
        (task.hidden, task.evalEpisodes, task.imageSize, task.model) = ([8], 2, 14, "mlp")
        edit.change(&task)
        let message = try refusal(EnvelopeCodec.encodePayload(task), workload: MetaLearnWorkload())
        #expect(message.contains(edit.expected), "\(message)")
    }

    typealias NASEdit = HostileEdit<Orrery_V1_Workloads_NasTrialTask>

    @Test(
        "nas: every out-of-range field and setting is refused by name, before any data is loaded",
        arguments: [
            NASEdit("unknown dataset 'imagenet'") { $0.dataset = "imagenet" },
            NASEdit("unknown schedule 'warm'") { $0.schedule = "warm" },
            NASEdit("horizon_epochs") { $0.horizonEpochs = 0 },
            NASEdit("end_epoch") { $0.endEpoch = 9; $0.horizonEpochs = 4 },
            NASEdit("start_epoch") { $0.startEpoch = 5; $0.endEpoch = 2; $0.horizonEpochs = 2 },
            NASEdit("needs a checkpoint") { $0.startEpoch = 1; $0.endEpoch = 2; $0.horizonEpochs = 2 },
            NASEdit("takes no checkpoint") { $0.final = true; $0.checkpoint = Data([1, 2, 3]) },
            NASEdit("latency_runs") { $0.latencyRuns = 4_000_000_000 },
            NASEdit("dev_examples") { $0.devExamples = 0 },
            NASEdit("leaves nothing to train on") { $0.devExamples = 100_000 },
            NASEdit("settings") { $0.settings = [:] },
            NASEdit("unknown setting 'lion'") { $0.settings["lion"] = "1" },
            NASEdit("family is required") { $0.settings["family"] = nil },
            NASEdit("family must be one of") { $0.settings["family"] = "transformer" },
            NASEdit("width_1 must be an integer") { $0.settings["width_1"] = "-3" },
            NASEdit("width_2 (or width) is required") { $0.settings["depth"] = "2" },
            NASEdit("learning_rate must be a number") { $0.settings["learning_rate"] = "nan" },
            NASEdit("learning_rate must be a number") { $0.settings["learning_rate"] = "0" },
            NASEdit("batch_size must be an integer") { $0.settings["batch_size"] = "1e9" },
            NASEdit("dropout must be a number") { $0.settings["dropout"] = "1" },
            NASEdit("parameters") { $0.settings["depth"] = "3"; $0.settings["width"] = "4096" },
            NASEdit("pooled to nothing") { $0.settings = ["family": "cnn", "blocks": "5", "channels": "4"] },
            NASEdit("kernel_1 must be an odd integer") { $0.settings = ["family": "cnn", "blocks": "1", "channels": "4", "kernel_1": "4"] },
            NASEdit("a convolution's output would hold") { $0.dataset = "fashion-mnist"; $0.settings = ["family": "cnn", "blocks": "1", "channels": "512", "batch_size": "4096"] },
            NASEdit("checkpoint") { $0.startEpoch = 1; $0.endEpoch = 2; $0.horizonEpochs = 2; $0.checkpoint = Data("not safetensors".utf8) },
        ])
    func nasRefusals(edit: NASEdit) throws {
        var task = Orrery_V1_Workloads_NasTrialTask()
        (task.dataset, task.schedule, task.devExamples, task.splitSeed) = ("digits", "constant", 100, 1)
        (task.startEpoch, task.endEpoch, task.horizonEpochs, task.latencyRuns) = (0, 1, 1, 1)
        task.settings = ["family": "mlp", "depth": "1", "width_1": "8"]
        edit.change(&task)
        let message = try refusal(EnvelopeCodec.encodePayload(task), workload: NASWorkload())
        #expect(message.contains(edit.expected), "\(message)")
    }

    typealias PipelineEdit = HostileEdit<Orrery_V1_Workloads_PipelineTask>

    @Test(
        "pipeline: every out-of-range field is refused by name, before a model is built or a peer contacted",
        arguments: [
            PipelineEdit("unknown model 'gpt'") { $0.model = "gpt" },
            PipelineEdit("unknown dataset 'imagenet'") { $0.dataset = "imagenet" },
            PipelineEdit("unknown dataset 'digits'") { $0.model = "minilm" },
            PipelineEdit("unknown schedule 'zero-bubble'") { $0.schedule = "zero-bubble" },
            PipelineEdit("unknown optimizer 'lion'") { $0.optimizer = "lion" },
            PipelineEdit("stages must be in") { $0.stages = 0 },
            PipelineEdit("replicas must be in") { $0.replicas = 4_000_000_000 },
            PipelineEdit("stages × replicas") { $0.stages = 16; $0.replicas = 16 },
            PipelineEdit("micro_batches must be in") { $0.microBatches = 0 },
            PipelineEdit("leaves fewer examples than micro_batches") { $0.batchSize = 8; $0.replicas = 2; $0.microBatches = 5 },
            PipelineEdit("learning_rate must be positive") { $0.learningRate = .nan },
            PipelineEdit("weight_decay must be 0 or more") { $0.weightDecay = -1 },
            PipelineEdit("momentum must be 0 or more") { $0.momentum = .infinity },
            PipelineEdit("units_per_stage must list") { $0.unitsPerStage = [1, 1, 1] },
            PipelineEdit("units_per_stage[1]") { $0.unitsPerStage = [2, 0] },
            PipelineEdit("sums to 4") { $0.unitsPerStage = [2, 2] },
            PipelineEdit("stages of a model with 3 units") { $0.stages = 4 },
            PipelineEdit("hidden must list") { $0.hidden = [] },
            PipelineEdit("hidden[1]") { $0.hidden = [8, 0] },
            PipelineEdit("at most 64000000") { $0.hidden = [16384, 16384, 16384] },
            PipelineEdit("max_tokens") { $0.model = "minilm"; $0.dataset = "bbc-news"; $0.maxTokens = 100_000 },
            PipelineEdit("need a gang of 2") { _ in },
        ])
    func pipelineRefusals(edit: PipelineEdit) throws {
        var task = Orrery_V1_Workloads_PipelineTask()
        (task.model, task.dataset, task.hidden, task.activation, task.schedule, task.optimizer) = ("mlp", "digits", [8, 8], "relu", "1f1b", "adam")
        (task.stages, task.replicas, task.microBatches, task.batchSize, task.epochs, task.learningRate) = (2, 1, 2, 8, 1, 0.01)
        edit.change(&task)
        let message = try refusal(EnvelopeCodec.encodePayload(task), workload: PipelineWorkload())
        #expect(message.contains(edit.expected), "\(message)")
    }

    @Test("train: a save path outside the worker's output directory is refused before training")
    func savePathEscapes() throws {
        let root = NSTemporaryDirectory() + "/orrery-output-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/inside", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try? FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "/etc")
        let output = try OutputDirectory(root)
        for path in ["/etc/orrery-owned", "../outside.safetensors", "inside/../../outside", "link/passwd", root + "/../x"] {
            let message = try refusal(Self.train { $0.savePath = path }, context: Self.context(output: output))
            #expect(message.contains("leaves this worker's output directory"), "\(path): \(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/etc/orrery-owned"))
        // Inside is fine, relative or absolute, and parents are made.
        #expect(try output.resolve("inside/model.safetensors") == output.path + "/inside/model.safetensors")
        #expect(try output.resolve(output.path + "/new/dir/m.safetensors") == output.path + "/new/dir/m.safetensors")
        #expect(FileManager.default.fileExists(atPath: output.path + "/new/dir"))
    }

    @Test("prompt search: absurd counts, token budgets and labels are refused by name")
    func promptSearchRefusals() throws {
        let executor = try PromptSearchWorkload().makeExecutor()
        func message(_ task: Orrery_V1_Workloads_PromptSearchTask) throws -> String {
            do {
                _ = try executor.execute(EnvelopeCodec.encodePayload(task), context: Self.context())
            } catch let error as TaskError {
                return error.message
            }
            return "ran"
        }
        let digest = String(repeating: "ab", count: 32)
        var paraphrase = Orrery_V1_Workloads_ParaphraseTask()
        paraphrase.modelSha256 = "not a digest"
        paraphrase.count = 2
        paraphrase.maxTokens = 48
        var task = Orrery_V1_Workloads_PromptSearchTask()
        task.paraphrase = paraphrase
        #expect(try message(task).contains("model_sha256"))
        paraphrase.modelSha256 = digest
        paraphrase.count = 4_000_000_000
        paraphrase.maxTokens = 48
        paraphrase.temperature = 0.8
        task.paraphrase = paraphrase
        #expect(try message(task).contains("count"))
        paraphrase.count = 2
        paraphrase.maxTokens = 4_000_000_000
        task.paraphrase = paraphrase
        #expect(try message(task).contains("max_tokens"))
        paraphrase.maxTokens = 48
        paraphrase.temperature = .nan
        task.paraphrase = paraphrase
        #expect(try message(task).contains("temperature"))

        var score = Orrery_V1_Workloads_PromptScoreTask()
        score.scorer = "smollm2"
        score.modelSha256 = digest
        score.maxTextTokens = 96
        score.texts = ["a text"]
        var prompt = Orrery_V1_Workloads_Prompt()
        prompt.template = "{text}"
        prompt.verbalizers = ["yes", "no"]
        var demonstration = Orrery_V1_Workloads_Demonstration()
        demonstration.text = "shown"
        demonstration.label = 7
        prompt.demonstrations = [demonstration]
        score.prompt = prompt
        task.score = score
        #expect(try message(task).contains("label 7"))
        score.prompt.demonstrations = []
        score.maxTextTokens = 4_000_000_000
        task.score = score
        #expect(try message(task).contains("max_text_tokens"))
    }

    @Test("specs: durations and sizes that used to trap or bloat are errors naming the field")
    func specLimits() {
        func error(_ yaml: String) -> String {
            do {
                _ = try JobSpec.parse(yaml: yaml, source: "t.yaml", registry: .builtIn)
                return "accepted"
            } catch {
                return error.description
            }
        }
        for timeout in ["99999999999999999h", "2562047788016h", "31d", "1e300s", "721h"] {
            #expect(error("name: t\nworkload: noop\ntask_timeout: \(timeout)\nnoop:\n  tasks: 1\n").contains("task_timeout"), "\(timeout)")
        }
        #expect(error("name: \(String(repeating: "n", count: 300))\nworkload: noop\nnoop:\n  tasks: 1\n").contains("at most 200 bytes"))
        #expect(error("name: \"a\\nb\"\nworkload: noop\nnoop:\n  tasks: 1\n").contains("printable"))
        for name in ["~", "null", "123", "true", "1.5", ""] {
            #expect(error("name: \(name)\nworkload: noop\nnoop:\n  tasks: 1\n").contains("name:"), "name: \(name)")
        }
        #expect(error("name: \"123\"\nworkload: noop\nnoop:\n  tasks: 1\n") == "accepted")
        #expect(error("name: big\nworkload: noop\nnoop:\n  tasks: 1\n# \(String(repeating: "x", count: 300_000))\n").contains("at most 262144"))
        #expect(error("name: t\nworkload: train\ntrain:\n  dataset: digits\n  model: cnn\n  channels: [4, 4, 4, 4]\n").contains("pooled to nothing"))
        #expect(error("name: t\nworkload: train\ntrain:\n  dataset: fashion-mnist\n  hidden: [65536, 65536]\n").contains("parameters"))
        #expect(error("name: t\nworkload: sweep\nsweep:\n  function: sphere\n  dimensions: 64\n  points: 100000\n").contains("coordinates per round"))
        #expect(error("name: t\nworkload: train\ntrain:\n  dataset: digits\n  momentum: -1\n").contains("momentum"))
    }
}
