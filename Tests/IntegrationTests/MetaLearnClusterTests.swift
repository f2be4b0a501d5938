import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    @Suite("Meta-learning on a gang")
    struct MetaLearnClusterTests {
        /// `extra`: more `meta-learn` lines (each indented by two spaces).
        static func spec(algorithm: String, workers: String, steps: Int = 24, model: String = "mlp", extra: [String] = []) -> String {
            """
            name: meta-\(algorithm)
            workload: meta-learn
            max_attempts: 4
            meta-learn:
              algorithm: \(algorithm)
              model: \(model)
              channels: [4, 4]
              ways: 5
              shots: 2
              queries: 5
              inner_steps: 2
              meta_batch: 7
              meta_steps: \(steps)
              hidden: [32, 16]
              eval_episodes: 20
              seed: 9
              workers: \(workers)
              checkpoint_every: 8
            """ + extra.map { "\n  \($0)" }.joined()
        }

        /// Meta-validation every `every` meta-steps, on a residual MLP for protonet.
        static func validated(every: Int, residual: Bool) -> [String] {
            (residual ? ["residual: true"] : []) + ["validate_every: \(every)", "validation_episodes: 10"]
        }

        static func report(_ job: Orrery_V1_JobInfo) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as? [String: Any] ?? [:]
        }

        @Test(
            "1, 2 and 3 workers end with bit-identical meta-parameters and the same meta-test scores (protonet: residual, and chosen on meta-validation)",
            arguments: [("maml", "mlp", false), ("fomaml", "mlp", false), ("anil", "mlp", false), ("protonet", "mlp", true), ("maml", "cnn", false)])
        func workerCountIndependence(algorithm: String, model: String, validated: Bool) throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--gang-gather", "300ms"])
            for name in ["w0", "w1", "w2"] { try cluster.startWorker(name) }
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            var reports: [[String: Any]] = []
            for workers in [1, 2, 3] {
                let extra = validated ? Self.validated(every: 6, residual: true) : []
                let job = try cluster.run(Self.spec(algorithm: algorithm, workers: "\(workers)", model: model, extra: extra), timeoutMilliseconds: 120_000)
                #expect(job.state == .succeeded, "\(job.error)")
                let report = try Self.report(job)
                #expect(report["workers"] as? Double == Double(workers), "\(report)")
                reports.append(report)
            }
            let digests = reports.map { $0["meta_parameters_sha256"] as? String ?? "" }
            #expect(digests[0].count == 64)
            #expect(Set(digests).count == 1, "\(digests)")
            let key = "\(algorithm)_2shot_accuracy"
            let scores = reports.map { $0[key] as? Double ?? -1 }
            #expect(scores[0] > 0 && Set(scores).count == 1, "\(scores)")
            if validated {
                let choices = reports.map { "\($0["validation_step"] ?? "none") \($0["validation_accuracy"] ?? "none")" }
                #expect(reports[0]["validation_step"] != nil && Set(choices).count == 1, "\(choices)")
            }
        }

        @Test("kill -9 of a gang member mid meta-training: the gang re-forms, resumes from the checkpoint (meta-validation's record in it), and ends bit-identical to an undisturbed run")
        func killMemberMidMetaTraining() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            try cluster.startWorker("w0")
            let victim = try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            let spec = Self.spec(algorithm: "fomaml", workers: "{min: 2, max: 3}", steps: 400, extra: Self.validated(every: 50, residual: false))
            let client = try cluster.client()
            let id = try client.submit(specYAML: spec, sourceName: "meta.yaml", watch: true)
            var killed = false
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                // Progress comes every 20 meta-steps; a checkpoint every 8.
                if !killed, info.progress.hasPrefix("meta-step"), !info.progress.hasPrefix("meta-step 400/") {
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(killed, "meta-training ended before its first progress note")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.retries >= 1)
            let after = try Self.report(disturbed)
            #expect(after["workers"] as? Double == 2, "\(after)")
            #expect((after["resumed_at_step"] as? Double ?? 0) >= 8, "\(after)")

            let undisturbed = try cluster.run(spec, timeoutMilliseconds: 180_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let reference = try Self.report(undisturbed)
            #expect(reference["resumed_at_step"] as? Double == 0)
            #expect(after["meta_parameters_sha256"] as? String == reference["meta_parameters_sha256"] as? String, "disturbed \(after) vs undisturbed \(reference)")
            #expect(after["fomaml_2shot_accuracy"] as? Double == reference["fomaml_2shot_accuracy"] as? Double)
            #expect(after["validation_step"] as? Double == reference["validation_step"] as? Double && reference["validation_step"] != nil)
        }
    }
}
