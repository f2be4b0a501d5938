import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    /// Prompt tuning on real worker processes with the real MiniLM: the tuned parameters do
    /// not depend on how many workers share the micro-batches, and a gang that loses a
    /// member to kill -9 resumes from its checkpoint and ends where an undisturbed run ends.
    @Suite("Prompt tuning on a gang")
    struct PromptTuneClusterTests {
        static func spec(workers: String, steps: Int, save: String, variants: String) -> String {
            """
            name: prompt-tune-gang
            workload: prompt-tune
            max_attempts: 4
            prompt-tune:
              model: minilm
              task: wordnet-glosses
              classes: [noun.animal, noun.food, verb.motion, noun.artifact]
              template: "Definition: {text}"
              shots: 4
              test: 24
              steps: \(steps)
              batch: 16
              micro_batch: 3
              lr: 0.01
              prompt_length: 4
              max_text_tokens: 24
              lora_rank: 2
              seed: 5
              workers: \(workers)
              checkpoint_every: 2
              save: \(save)
              variants: \(variants)
            """
        }

        static func runs(_ job: Orrery_V1_JobInfo) throws -> [String: [String: Any]] {
            let report = try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as? [String: Any] ?? [:]
            let runs = report["runs"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: runs.map { ($0["variant"] as? String ?? "?", $0) })
        }

        @Test("1, 2 and 3 workers tune bit-identical soft prompts, P-tuning networks and LoRA adapters, with the same test predictions")
        func workerCountIndependence() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--gang-gather", "300ms"])
            for name in ["w0", "w1", "w2"] { try cluster.startWorker(name, extra: ["--output-dir", cluster.directory]) }
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            var digests: [String: Set<String>] = [:]
            var accuracies: [String: Set<Double>] = [:]
            for workers in [1, 2, 3] {
                let spec = Self.spec(
                    workers: "\(workers)", steps: 6, save: "w\(workers)",
                    variants: "[soft-prompt/vocabulary, {method: p-tuning, init: vocabulary}, lora]")
                let job = try cluster.run(spec, timeoutMilliseconds: 300_000)
                #expect(job.state == .succeeded, "\(job.error)")
                for (variant, run) in try Self.runs(job) {
                    #expect(run["workers"] as? Int == workers, "\(run)")
                    digests[variant, default: []].insert(run["savedSHA256"] as? String ?? "")
                    accuracies[variant, default: []].insert(run["accuracy"] as? Double ?? -1)
                }
            }
            #expect(digests.count == 3)
            for (variant, seen) in digests {
                #expect(seen.count == 1 && seen.first?.count == 64, "\(variant): \(seen)")
                #expect(accuracies[variant]?.count == 1, "\(variant): \(accuracies[variant] ?? [])")
            }
        }

        @Test("kill -9 of a gang member mid-tuning: the gang re-forms, resumes from the checkpoint, and saves the prompt an undisturbed run saves")
        func killMemberMidTuning() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            try cluster.startWorker("w0", extra: ["--output-dir", cluster.directory])
            let victim = try cluster.startWorker("w1", extra: ["--output-dir", cluster.directory])
            try cluster.startWorker("w2", extra: ["--output-dir", cluster.directory])
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            let spec = Self.spec(workers: "{min: 2, max: 3}", steps: 40, save: "prompts", variants: "[soft-prompt/random]")
            let client = try cluster.client()
            let id = try client.submit(specYAML: spec, sourceName: "tune.yaml", watch: true)
            var killed = false
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                // Progress comes every 4 steps; a checkpoint every 2.
                if !killed, info.progress.contains("step "), !info.progress.contains("step 40/") {
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(killed, "tuning ended before its first progress note")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.retries >= 1)
            let after = try Self.runs(disturbed)["soft-prompt/random"] ?? [:]
            #expect(after["workers"] as? Int == 2, "\(after)")
            #expect((after["resumedAt"] as? Int ?? 0) >= 2, "\(after)")

            let undisturbed = try cluster.run(spec, timeoutMilliseconds: 300_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let reference = try Self.runs(undisturbed)["soft-prompt/random"] ?? [:]
            #expect(reference["resumedAt"] as? Int == 0)
            #expect(after["savedSHA256"] as? String == reference["savedSHA256"] as? String, "disturbed \(after) vs undisturbed \(reference)")
            #expect(after["accuracy"] as? Double == reference["accuracy"] as? Double)
        }
    }
}
