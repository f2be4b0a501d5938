import Foundation
import OrreryTestSupport
import Tensor
import Testing
import Wire

@testable import Workloads

/// The `prompt-tune` workload in one process, with the real MiniLM and real WordNet
/// glosses: the spec's variants become tasks, a meta-trained initialization is a file a
/// tuning task starts from, a file for another model or of another shape is refused by
/// name, and every hostile payload field is refused before anything loads.
@Suite("Prompt tuning (workload)")
struct PromptTuneTests {
    static func planner(_ section: String) throws -> PromptTunePlanner {
        let yaml = "name: t\nworkload: prompt-tune\nprompt-tune:\n" + section
        return try #require(try JobSpec.parse(yaml: yaml, source: "t.yaml", registry: .builtIn).planner as? PromptTunePlanner)
    }

    static let small = """
          model: minilm
          task: wordnet-glosses
          classes: [noun.animal, noun.food, verb.motion]
          shots: 2
          test: 12
          steps: 2
          batch: 6
          micro_batch: 3
          prompt_length: 3
          max_text_tokens: 16
        """

    static func context(_ directory: String) throws -> TaskContext {
        TaskContext(taskID: "t/0", attempt: 1, outputDirectory: try OutputDirectory(directory), isCancelled: { false }, reportProgress: { _, _ in })
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "/orrery-prompt-tune-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("variants × seeds × problems become one task each, with their own method, initialization and save path")
    func planning() throws {
        let planner = try Self.planner("""
              model: minilm
              problems: {task: wordnet-glosses, class_split: meta-test, ways: 4, count: 3}
              shots: 4
              seeds: [1, 2]
              save: out
              variants:
                - zero-shot
                - soft-prompt/vocabulary
                - {method: soft-prompt, init: text, text: "a definition", lr: 0.01}
                - {method: lora, steps: 5}
            """)
        #expect(planner.tasks.count == 3 * 2 * 4)
        let keys = planner.start().map(\.key)
        #expect(Set(keys).count == keys.count)
        let text = try #require(planner.tasks.first { $0.variant == "soft-prompt/text" })
        #expect(text.init_p.text == "a definition" && text.lr == 0.01)
        #expect(planner.tasks.first { $0.variant == "lora" }?.steps == 5)
        #expect(planner.tasks.first { $0.variant == "zero-shot" }?.savePath == "")
        #expect(Set(planner.tasks.map(\.problem.draw)).count == 3)
        #expect(planner.tasks.allSatisfy { $0.problem.classSplit == "meta-test" && $0.problem.ways == 4 })
    }

    @Test(
        "a wrong spec is refused at the field that is wrong",
        arguments: [
            ("variants: [soft-prompt/text]", "needs a text or path"),
            ("variants: [lora/random]", "has no prompt to initialize"),
            ("variants: [{method: lora, init: text}]", "has no prompt to initialize"),
            ("variants: [magic]", "unknown method 'magic'"),
            ("variants: [zero-shot, zero-shot]", "two variants are named 'zero-shot'"),
            ("variants: [{method: soft-prompt, init: file}]", "init file needs a path"),
            ("variants: []", "needs at least one variant"),
            ("variants: [zero-shot]\n  problems: {task: wordnet-glosses, class_split: meta-test, ways: 4, count: 2}", "give task or problems"),
            ("variants: [zero-shot]\n  micro_batch: 7", "micro_batch"),
        ])
    func specRefusals(edit: (String, String)) throws {
        // Later keys of a YAML mapping must not repeat earlier ones: the edit replaces lines.
        var section = Self.small
        if edit.0.contains("problems:") { section = section.replacingOccurrences(of: "  task: wordnet-glosses\n  classes: [noun.animal, noun.food, verb.motion]\n", with: "  task: wordnet-glosses\n") }
        if edit.0.contains("micro_batch: 7") { section = section.replacingOccurrences(of: "  micro_batch: 3\n", with: "") }
        #expect {
            _ = try Self.planner(section + "\n  " + edit.0 + "\n")
        } throws: { error in
            "\(error)".contains(edit.1)
        }
    }

    @Test("a meta-trained initialization is saved for its model and read by a tuning task; a file for another model or shape is refused by name")
    func metaInitializationRoundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executor = try PromptTuneWorkload().makeExecutor()
        let meta = try Self.planner("""
              model: minilm
              prompt_length: 3
              max_text_tokens: 16
              steps: 1
              init: vocabulary
              meta:
                algorithm: reptile
                sources: [{task: wordnet-glosses, class_split: meta-train}, {task: vader-movies}]
                ways: 2
                shots: 2
                queries: 2
                meta_batch: 2
                meta_steps: 2
              save: meta.safetensors
            """)
        #expect(meta.tasks.count == 1)
        let output = try executor.execute(meta.start()[0].payload, context: Self.context(directory))
        let result = try Orrery_V1_Workloads_PromptTuneResult(serializedBytes: output.payload)
        #expect(result.savedSha256.count == 64)
        #expect(FileManager.default.fileExists(atPath: directory + "/meta.safetensors"))

        let tune = try Self.planner(Self.small + "\n  variants: [{method: soft-prompt, init: file, path: meta.safetensors}]\n")
        let tuned = try Orrery_V1_Workloads_PromptTuneResult(
            serializedBytes: executor.execute(tune.start()[0].payload, context: Self.context(directory)).payload)
        #expect(tuned.hits.count == 12 && tuned.discreteHits.count == 12)

        // A prompt tuned for another model, the file with another prompt length, no file.
        _ = try PromptArtifact.save(
            [("prompt", Tensor.zeros([3, 384]))], to: directory + "/other-model.safetensors", model: "minilm",
            modelSHA256: String(repeating: "0", count: 64), method: "soft-prompt")
        for (edit, expected) in [
            ({ (task: inout Orrery_V1_Workloads_PromptTuneTask) in task.init_p.path = "other-model.safetensors" }, "was tuned for the model with sha256 0000"),
            ({ (task: inout Orrery_V1_Workloads_PromptTuneTask) in task.promptLength = 5 }, "this job needs [5, 384]"),
            ({ (task: inout Orrery_V1_Workloads_PromptTuneTask) in task.init_p.path = "missing.safetensors" }, "cannot be read"),
        ] {
            var task = tune.tasks[0]
            edit(&task)
            do {
                _ = try executor.execute(EnvelopeCodec.encodePayload(task), context: Self.context(directory))
                Issue.record("a wrong prompt file was used: \(expected)")
            } catch let error as TaskError {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test("a prompt-search report starts a soft prompt from its winner and carries the accuracy it reported")
    func searchReportInitialization() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = """
            {"scorer": "minilm", "modelSHA256": "\(PromptScorer.minilm.pinnedSHA256)",
             "leaderboard": [{"instruction": "", "template": "Gloss: {text}", "verbalizers": ["animal", "food", "motion"]}],
             "test": [{"role": "best", "accuracy": {"estimate": 0.75, "lower": 0.7, "upper": 0.8}}]}
            """
        try report.write(toFile: directory + "/report.json", atomically: true, encoding: .utf8)
        try "{\"scorer\": \"smollm2\", \"modelSHA256\": \"x\", \"leaderboard\": [], \"test\": []}"
            .write(toFile: directory + "/other.json", atomically: true, encoding: .utf8)
        let executor = try PromptTuneWorkload().makeExecutor()
        let planner = try Self.planner(Self.small + "\n  variants: [{method: soft-prompt, init: search-report, path: report.json}]\n")
        let result = try Orrery_V1_Workloads_PromptTuneResult(
            serializedBytes: executor.execute(planner.start()[0].payload, context: Self.context(directory)).payload)
        #expect(result.searchReportedAccuracy == 0.75)
        var task = planner.tasks[0]
        task.init_p.path = "other.json"
        #expect {
            _ = try executor.execute(EnvelopeCodec.encodePayload(task), context: Self.context(directory))
        } throws: { error in
            "\(error)".contains("was scored with smollm2")
        }
    }

    @Test("multi-task: one prompt trained on several tasks at once, scored on each; its runs pair with one prompt per task")
    func jointTuning() throws {
        let planner = try Self.planner("""
              model: minilm
              tasks:
                - {task: wordnet-glosses, classes: [noun.animal, noun.food, verb.motion]}
                - {task: vader-movies}
              shots: 2
              test: 10
              steps: 2
              batch: 6
              micro_batch: 3
              prompt_length: 3
              max_text_tokens: 16
              variants: [soft-prompt/vocabulary, {method: soft-prompt, init: vocabulary, joint: true}]
            """)
        // One joint task (per seed), then one task per problem for the other variant.
        #expect(planner.tasks.map(\.variant) == ["soft-prompt/vocabulary/joint", "soft-prompt/vocabulary", "soft-prompt/vocabulary"])
        #expect(planner.tasks[0].joint.count == 2)
        let executor = try PromptTuneWorkload().makeExecutor()
        let context = TaskContext(taskID: "t", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        var open = planner.start()
        while let task = open.popLast() {
            let output = try executor.execute(task.payload, context: context)
            open += planner.consume(TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w"))
        }
        let joint = try #require(planner.results[0].result)
        #expect(joint.parts.map(\.problem) == ["wordnet-glosses[noun.animal,noun.food,verb.motion]", "vader-movies"])
        #expect(joint.parts.allSatisfy { $0.hits.count == 10 && $0.discreteHits.count == 10 })
        // The untuned prompt scores the same examples whether tuned jointly or alone.
        #expect(joint.parts[1].discreteHits == planner.results[2].result?.discreteHits)
        let report = planner.report()
        #expect(report.text.contains("soft-prompt/vocabulary/joint − soft-prompt/vocabulary"), "\(report.text)")
        #expect(report.files["runs.csv"]?.split(separator: "\n").count == 5)
        #expect {
            _ = try Self.planner(Self.small + "\n  variants: [{method: lora, joint: true}]\n")
        } throws: { error in "\(error)".contains("cannot share its parameters across tasks") }
    }

    typealias Edit = HostileEdit<Orrery_V1_Workloads_PromptTuneTask>

    @Test(
        "prompt-tune: every out-of-range field is refused by name, before any data or model is loaded",
        arguments: [
            Edit("unknown model 'bert-large'") { $0.model = "bert-large" },
            Edit("unknown method 'adapters'") { $0.method = "adapters" },
            Edit("problem.shots") { $0.problem.shots = 0 },
            Edit("problem.test") { $0.problem.test = 0 },
            Edit("unknown problem.task 'imagenet'") { $0.problem.task = "imagenet" },
            Edit("problem.class_split applies to wordnet-glosses only") { $0.problem.classSplit = "meta-test" },
            Edit("unknown problem.class_split 'everything'") { $0.problem.task = "wordnet-glosses"; $0.problem.classSplit = "everything" },
            Edit("problem.classes must list two or more different classes") { $0.problem.classes = ["sport", "sport"] },
            Edit("problem.classes must list two or more different classes") { $0.problem.classes = ["sport"] },
            Edit("problem.ways must be 0 (all classes) or at least 2") { $0.problem.ways = 1 },
            Edit("meta.sources[0].classes must list two or more different classes") {
                $0.meta.algorithm = "reptile"; $0.meta.sources = [$0.problem]; $0.meta.sources[0].classes = ["tech", "tech"]
            },
            Edit("prompt_length") { $0.promptLength = 0 },
            Edit("prompt_length") { $0.promptLength = 100_000 },
            Edit("unknown init 'zeros'") { $0.init_p.kind = "zeros" },
            Edit("init search-report needs a path") { $0.init_p.kind = "search-report" },
            Edit("lr must be a finite positive number") { $0.lr = .nan },
            Edit("micro_batch") { $0.microBatch = 0 },
            Edit("micro_batch") { $0.microBatch = 17 },
            Edit("batch") { $0.batch = 1_000_000 },
            Edit("max_text_tokens") { $0.maxTextTokens = 0 },
            Edit("lora_rank") { $0.method = "lora"; $0.loraRank = 0 },
            Edit("reparameterization_hidden") { $0.method = "p-tuning"; $0.reparameterizationHidden = 0 },
            Edit("workers_max") { $0.workersMin = 3; $0.workersMax = 2 },
            Edit("meta.ways") { $0.meta.algorithm = "reptile"; $0.meta.sources = [$0.problem]; $0.meta.ways = 1 },
            Edit("texts an episode") {
                $0.meta.algorithm = "reptile"; $0.meta.sources = [$0.problem]; $0.meta.ways = 64; $0.meta.shots = 1000; $0.meta.queries = 100
            },
            Edit("meta.sources") { $0.meta.algorithm = "reptile"; $0.meta.ways = 2 },
            Edit("meta-training learns a soft prompt's initialization for minilm") { $0.meta.algorithm = "reptile"; $0.model = "smollm2" },
        ])
    func refusals(edit: Edit) throws {
        var task = Orrery_V1_Workloads_PromptTuneTask()
        task.model = "minilm"
        task.method = "soft-prompt"
        task.problem.task = "bbc-news"
        task.problem.shots = 4
        task.problem.test = 10
        (task.promptLength, task.steps, task.batch, task.microBatch, task.lr, task.maxTextTokens) = (4, 1, 16, 4, 0.01, 32)
        task.init_p.kind = "random"
        (task.loraRank, task.loraAlpha, task.reparameterizationHidden) = (4, 8, 16)
        if edit.expected.hasPrefix("meta") || edit.expected.contains("texts an episode") || edit.expected.contains("initialization") {
            (task.meta.shots, task.meta.queries, task.meta.innerSteps, task.meta.innerLr, task.meta.outerLr) = (2, 2, 1, 0.01, 0.5)
            (task.meta.metaBatch, task.meta.metaSteps) = (2, 2)
            if task.meta.ways == 0 { task.meta.ways = 2 }
        }
        edit.change(&task)
        let executor = try PromptTuneWorkload().makeExecutor()
        do {
            _ = try executor.execute(EnvelopeCodec.encodePayload(task), context: TaskContext(taskID: "x", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in }))
            Issue.record("the task ran")
        } catch let error as TaskError {
            #expect(!error.retryable, "a bad payload cannot succeed elsewhere: \(error)")
            #expect(error.message.contains(edit.expected), "\(error.message)")
        }
    }
}
