import Foundation
import Glibc
import OrreryTestSupport
import Testing

extension ClusterTests {
    /// Pipeline training on real worker processes: a stage's worker killed with SIGKILL
    /// mid-training; the survivors name it, the coordinator re-forms the pipeline with a
    /// fresh worker, the stages resume from the last checkpoint gathered to rank 0, and the
    /// model ends exactly as an undisturbed run's.
    @Suite("Pipeline on a cluster")
    struct PipelineClusterTests {
        /// A 5-unit MLP on Fashion-MNIST in 3 stages, 1F1B, checkpoints every 20 steps.
        static let spec = """
            name: pipeline-kill
            workload: pipeline
            max_attempts: 4
            pipeline:
              model: mlp
              dataset: fashion-mnist
              hidden: [512, 512, 512, 256]
              stages: 3
              schedule: 1f1b
              micro_batches: 4
              batch_size: 64
              max_steps: 240
              optimizer: adam
              learning_rate: 0.001
              checkpoint_every: 20
              test_limit: 2000
              seed: 4
            """

        static func metrics(_ json: String) throws -> [String: Double] {
            let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            return report["pipeline"] as? [String: Double] ?? [:]
        }

        /// Every checkpoint of this test travels as a file in the workers' shared output
        /// directory (the limit is far below its 13 MB), as MiniLM's 128 MB ones do.
        @Test("kill -9 of a stage's worker: the pipeline re-forms on a fresh worker, resumes from its checkpoint file, and ends as an undisturbed run")
        func killStageMidTraining() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let outputs = cluster.directory + "/outputs"
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
            let files = ["--output-dir", outputs, "--checkpoint-inline-limit", "1024"]
            try cluster.startCoordinator(extra: ["--collective-timeout", "3s"])
            try cluster.startWorker("w0", extra: files)
            let victim = try cluster.startWorker("w1", extra: files)
            try cluster.startWorker("w2", extra: files)
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            let client = try cluster.client()
            let id = try client.submit(specYAML: Self.spec, sourceName: "pipeline.yaml", watch: true)
            var killed = false
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                // Progress notes come every 10 steps from rank 0; by step 61 two checkpoints
                // (steps 20, 40) and likely a third are in.
                if !killed, let step = Self.step(info.progress), step >= 61 {
                    victim.signal(SIGKILL)
                    killed = true
                    _ = try? cluster.startWorker("w3", extra: files)
                }
            })
            #expect(killed, "training never reached step 61 while watched")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.retries >= 1, "\(cluster.log("coordinator").suffix(4000))")
            // Ranks follow the order the workers registered in: w1 is stage 1.
            let survivors = ["w0", "w2"].map { cluster.log($0) }.joined()
            #expect(survivors.contains("rank 1"), "no survivor named the dead stage (rank 1):\n\(survivors.suffix(3000))")
            let resumed = try Self.metrics(disturbed.reportJson)
            let workerLogs = ["w0", "w1", "w2", "w3"].map { cluster.log($0) }.joined()
            #expect(
                (resumed["resumed_at_step"] ?? 0) >= 40,
                "\(resumed)\n\(workerLogs.split(separator: "\n").filter { $0.contains("checkpoint") }.suffix(20).joined(separator: "\n"))")

            let undisturbed = try cluster.run(Self.spec, timeoutMilliseconds: 300_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let straight = try Self.metrics(undisturbed.reportJson)
            #expect(straight["resumed_at_step"] == 0 && straight["steps"] == 240)
            for key in ["test_accuracy", "test_loss"] {
                #expect(resumed[key] != nil && resumed[key] == straight[key], "\(key): \(resumed[key] ?? -1) resumed, \(straight[key] ?? -1) straight")
            }
            // Finished tasks leave no checkpoint files behind.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: outputs + "/checkpoints")) ?? []
            #expect(left.isEmpty, "checkpoint folders left: \(left)")
        }

        @Test("launch runs jobs/pipeline-minilm-bbc.yaml, shrunk, on 3 worker processes: MiniLM in 3 stages beside one worker, the same test loss")
        func launchMiniLMPipeline() throws {
            let job = try String(contentsOfFile: PackageRoot.url.appendingPathComponent("jobs/pipeline-minilm-bbc.yaml").path, encoding: .utf8)
            let shrunk = job.replacingOccurrences(of: "  epochs: 2\n", with: "  epochs: 1\n  max_steps: 3\n  train_limit: 64\n  test_limit: 32\n")
                .replacingOccurrences(of: "  max_tokens: 128\n", with: "  max_tokens: 32\n")
            #expect(shrunk.contains("max_steps: 3") && shrunk.contains("max_tokens: 32"), "the job file changed shape")
            let path = NSTemporaryDirectory() + "/orrery-pipeline-\(getpid()).yaml"
            try shrunk.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let run = try CommandRun(["launch", "--workers", "3", "--json", path], in: NSTemporaryDirectory(), timeoutMilliseconds: 300_000)
            #expect(run.status == 0, "stderr:\n\(run.stderr.suffix(3000))")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let report = try #require(json["report"] as? [String: [String: Double]])
            let (pipeline, single) = (try #require(report["pipeline"]), try #require(report["single"]))
            #expect(pipeline["stages"] == 3 && pipeline["steps"] == 3 && single["stages"] == 1)
            #expect(pipeline["peak_live_stage0"] == 3 && pipeline["peak_live_stage2"] == 1)
            let loss = (pipeline["test_loss"] ?? -1, single["test_loss"] ?? -2)
            #expect(abs(loss.0 - loss.1) < 1e-4, "test loss \(loss.0) in 3 stages, \(loss.1) on one worker")
        }

        /// The step in a progress note "step 61/240".
        static func step(_ progress: String) -> Int? {
            guard let range = progress.range(of: #"step (\d+)/"#, options: .regularExpression) else { return nil }
            return Int(progress[range].dropFirst(5).dropLast())
        }
    }
}
