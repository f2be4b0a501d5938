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

    /// Runs every task the planner hands out, in this process, until it has no more.
    static func runToTheEnd(_ planner: PromptTunePlanner) throws {
        let executor = try PromptTuneWorkload().makeExecutor()
        let context = TaskContext(taskID: "t", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        var open = planner.start()
        while let task = open.popLast() {
            let output = try executor.execute(task.payload, context: context)
            open += planner.consume(TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w"))
        }
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
        try Self.runToTheEnd(planner)
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
            Edit("distill.temperature") { $0.distill.unlabeled = 4; $0.distill.temperature = 0; $0.distill.teacherLogits = [1] },
            Edit("distill.alpha") { $0.distill.unlabeled = 4; $0.distill.temperature = 2; $0.distill.alpha = 2; $0.distill.teacherLogits = [1] },
            Edit("distill.unlabeled") { $0.distill.unlabeled = 0; $0.distill.temperature = 2; $0.distill.teacherLogits = [1] },
            Edit("needs the teacher's finite logits") { $0.distill.unlabeled = 4; $0.distill.temperature = 2; $0.distill.teacherLogits = [1, .nan] },
            Edit("needs the teacher's finite logits") { $0.distill.unlabeled = 4; $0.distill.temperature = 2 },
            Edit("needs the teacher's finite logits") {
                $0.distill.unlabeled = 1; $0.distill.temperature = 2; $0.distill.teacherLogits = [Float](repeating: 0, count: 65)
            },
            Edit("a teacher's task carries no teacher logits") { $0.method = "teacher"; $0.distill.unlabeled = 4; $0.distill.teacherLogits = [1] },
            Edit("a teacher's prompt is a file") { $0.method = "teacher"; $0.distill.unlabeled = 4 },
            Edit("distillation needs its distill settings") { $0.method = "teacher" },
            Edit("int8 scoring is for a minilm tuning task") { $0.model = "smollm2"; $0.int8 = true },
            Edit("prune_heads keeps a fraction in (0, 1]") { $0.pruneHeads = 2 },
            Edit("prune_feed_forward keeps a fraction in (0, 1]") { $0.pruneFeedForward = -0.5 },
            Edit("pruning is for a minilm tuning task") { $0.model = "smollm2"; $0.pruneHeads = 0.5 },
            Edit("discrete_search.templates") { $0.method = "discrete-search" },
            Edit("discrete_search.templates") {
                $0.method = "discrete-search"; $0.discreteSearch.templates = Array(repeating: "{text}", count: 17)
            },
            Edit("has no {text}") {
                $0.method = "discrete-search"; $0.discreteSearch.templates = ["x"]; $0.discreteSearch.descriptions = ["{class}"]
                $0.discreteSearch.prototypes = [false]
            },
            Edit("unknown placeholder {x}") {
                $0.method = "discrete-search"; $0.discreteSearch.templates = ["{text}"]; $0.discreteSearch.descriptions = ["{x} {class}"]
                $0.discreteSearch.prototypes = [false]
            },
            Edit("prototypes are for minilm") {
                $0.model = "smollm2"; $0.method = "discrete-search"; $0.discreteSearch.templates = ["{text}"]
                $0.discreteSearch.descriptions = ["{class}"]; $0.discreteSearch.prototypes = [true]
            },
            Edit("discrete_search belongs to method discrete-search, not lora") { $0.method = "lora"; $0.discreteSearch.templates = ["{text}"] },
            Edit("4 teacher logits for 4 unlabeled texts of 5 classes") {
                $0.distill.unlabeled = 4; $0.distill.temperature = 2; $0.distill.teacherLogits = [1, 2, 3, 4]
            },
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

    static let distillation = """
          model: minilm
          task: wordnet-glosses
          classes: [noun.animal, noun.food, verb.motion]
          descriptions: [an animal, a food, a movement]
          shots: 2
          test: 12
          steps: 30
          batch: 8
          micro_batch: 4
          max_text_tokens: 16
          int8: true
          teacher:
            model: minilm
            template: "Definition: {text}"
            unlabeled: 24
            temperature: 2
            alpha: 0.5
          variants: [zero-shot, linear-probe, {method: linear-probe, distill: true, lr: 0.1}]
        """

    @Test("distillation: the teacher runs first and labels unlabeled texts; its students are planned with its logits, learn them, and are reported against it, in float32 and int8")
    func distillation() throws {
        let planner = try Self.planner(Self.distillation)
        #expect(planner.tasks.map(\.variant) == ["teacher", "zero-shot", "linear-probe", "linear-probe/distilled"])
        let teacherTask = planner.tasks[0]
        #expect(teacherTask.method == "teacher" && teacherTask.template == "Definition: {text}" && !teacherTask.int8)
        #expect(planner.tasks[3].distill.unlabeled == 24 && planner.tasks[3].distill.teacherLogits.isEmpty && planner.tasks[3].int8)
        // The student waits for the teacher.
        var open = planner.start()
        #expect(open.map(\.key) == ["0-s1-teacher", "1-s1-zero-shot", "2-s1-linear-probe"])
        let executor = try PromptTuneWorkload().makeExecutor()
        let context = TaskContext(taskID: "t", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        var students: [PlannedTask] = []
        while let task = open.first {
            open.removeFirst()
            let output = try executor.execute(task.payload, context: context)
            let added = planner.consume(TaskOutcome(key: task.key, result: .success(output), attempts: 1, workerID: "w"))
            students += added
            open += added
        }
        #expect(planner.isComplete && planner.failureReason == nil)
        let teacher = try #require(planner.results[0].result)
        #expect(teacher.teacherLogits.count == 24 * 3 && teacher.hits.count == 12 && teacher.textsPerSecond > 0)
        let student = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_PromptTuneTask.self, from: try #require(students.first).payload)
        #expect(students.count == 1 && student.distill.teacherLogits == teacher.teacherLogits)
        // Labeled by a teacher from 24 texts, the probe agrees with the teacher on the test
        // texts far more than chance would (a third) — it learned the teacher's labels.
        let distilled = try #require(planner.results[3].result)
        #expect(distilled.hits.count == 12 && distilled.int8Hits.count == 12 && distilled.int8TextsPerSecond > 0)
        #expect(distilled.finalTrainLoss < 0.5, "the probe did not fit the teacher's labels: loss \(distilled.finalTrainLoss)")
        let report = planner.report()
        #expect(report.text.contains("distilled from minilm"), "\(report.text)")
        #expect(report.text.contains("linear-probe/distilled (int8)"), "\(report.text)")
        #expect(report.text.contains("the teacher's texts/s"), "\(report.text)")
        #expect(report.files["runs.csv"]?.split(separator: "\n").count == 1 + 4 + 3, "one run per task, and an int8 run for each of the three students")
        // Accuracy against speed for the dashboard: every row, the teacher's too, a front among them.
        let front = try #require(planner.paretoSet())
        #expect(front.objectives == ["test_accuracy", "texts_per_second"] && front.points.count == 7)
        #expect(front.points.contains { $0.name == "teacher" } && front.points.contains(where: \.onFront))
        let best = try #require(front.points.max { $0.values[0] < $1.values[0] })
        let fastest = try #require(front.points.max { $0.values[1] < $1.values[1] })
        #expect(best.onFront && fastest.onFront)
    }

    @Test("a teacher's result whose logits could not be rows of its texts plans no student and fails the job by name", arguments: [[Float](), [1, .nan], [Float](repeating: 1, count: 24 * 64 + 1)])
    func unusableTeacherLogits(logits: [Float]) throws {
        let planner = try Self.planner(Self.distillation)
        let teacher = try #require(planner.start().first { $0.key.hasSuffix("-teacher") })
        var result = Orrery_V1_Workloads_PromptTuneResult()
        result.teacherLogits = logits
        let added = planner.consume(TaskOutcome(key: teacher.key, result: .success(TaskOutput(payload: try result.serializedData())), attempts: 1, workerID: "w"))
        #expect(added.isEmpty)
        #expect(planner.failureReason?.contains("no usable logits") == true, "\(planner.failureReason ?? "nil")")
    }

    @Test(
        "distillation specs are refused where they are wrong",
        arguments: [
            ("variants: [{method: linear-probe, distill: true}]", "no teacher section"),
            ("teacher: {model: minilm}\n  variants: [linear-probe]", "no variant learns from the teacher"),
            ("teacher: {model: minilm}\n  variants: [{method: zero-shot, distill: true}]", "zero-shot trains nothing to distill into"),
            ("teacher: {model: minilm, unlabeled: 0}\n  variants: [{method: lora, distill: true}]", "unlabeled"),
            ("teacher: {model: minilm, temperature: 0}\n  variants: [{method: lora, distill: true}]", "temperature"),
            ("teacher: {model: gpt, temperature: 0}\n  variants: [{method: lora, distill: true}]", "gpt"),
            ("teacher: {model: smollm2, prompt: p.safetensors, prompt_length: 0}\n  variants: [{method: lora, distill: true}]", "prompt_length"),
        ])
    func distillationRefusals(edit: (String, String)) throws {
        #expect {
            _ = try Self.planner(Self.small + "\n  " + edit.0 + "\n")
        } throws: { error in
            "\(error)".contains(edit.1)
        }
    }

    @Test("a pruned variant tunes a MiniLM that kept the named fractions of its heads and feed-forward neurons, and is named for them")
    func prunedVariant() throws {
        let planner = try Self.planner(Self.small + "\n  variants: [linear-probe, {method: linear-probe, prune: {heads: 0.5, feed_forward: 0.25}}]\n")
        #expect(planner.tasks.map(\.variant) == ["linear-probe", "linear-probe/pruned-h50-f25"])
        #expect(planner.tasks[1].pruneHeads == 0.5 && planner.tasks[1].pruneFeedForward == 0.25 && planner.tasks[0].pruneHeads == 0)
        let executor = try PromptTuneWorkload().makeExecutor()
        let context = TaskContext(taskID: "t", attempt: 1, isCancelled: { false }, reportProgress: { _, _ in })
        let results = try planner.start().map { task in
            try Orrery_V1_Workloads_PromptTuneResult(serializedBytes: executor.execute(task.payload, context: context).payload)
        }
        #expect(results.allSatisfy { $0.hits.count == 12 })
        // The probe trained on the pruned model's features, which moved: another loss.
        #expect(results[0].finalTrainLoss != results[1].finalTrainLoss)
        #expect {
            _ = try Self.planner(Self.small + "\n  variants: [{method: lora, prune: {heads: 0}}]\n")
        } throws: { error in "\(error)".contains("heads") }
    }
}
