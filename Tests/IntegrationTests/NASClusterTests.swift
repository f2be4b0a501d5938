import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    /// Architecture search on real worker processes: a worker killed with SIGKILL in the
    /// middle of a trial loses at most the epoch in progress; the trial resumes from its
    /// last epoch's checkpoint on the survivor, every trial's result is counted once, and the
    /// leaderboard is the one an undisturbed run gives.
    @Suite("NAS on a cluster")
    struct NASClusterTests {
        /// One CNN shape on MNIST-5k (3,500 training images, each epoch a few seconds), so
        /// every trial costs the same; four learning rates and batch sizes.
        static let spec = """
            name: nas-kill
            workload: nas
            max_attempts: 4
            nas:
              dataset: mnist-5k
              strategy: random
              budget: 24
              epochs: 6
              parallel: 2
              dev: 500
              latency_runs: 3
              seed: 2
              space:
                family: cnn
                blocks: 2
                channels_1: 8
                channels_2: 16
                residual: true
                head: 32
                dropout: 0.25
                learning_rate: {log: [0.002, 0.02]}
                batch_size: {choice: [16, 32]}
            """

        static func leaderboard(_ json: String) throws -> [[String: AnyHashable]] {
            let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            let entries = report["leaderboard"] as? [[String: Any]] ?? []
            return entries.map { entry in
                ["configuration": entry["configuration"] as? String ?? "", "devAccuracy": entry["devAccuracy"] as? Double ?? -1, "epochs": entry["epochs"] as? Int ?? -1]
            }
        }

        @Test("kill -9 of a worker mid-trial: the trial resumes from its checkpoint, results count once, the leaderboard is the undisturbed one")
        func killWorkerMidTrial() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            try cluster.startWorker("w0")
            let victim = try cluster.startWorker("w1")
            #expect(cluster.waitForWorkers(["w0", "w1"]))
            let client = try cluster.client()
            let id = try client.submit(specYAML: Self.spec, sourceName: "nas.yaml", watch: true)
            var killed = false
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                // Both workers run a trial from the start; by a note of epoch 3 each has
                // committed at least one epoch's checkpoint (the trials cost the same).
                if !killed, info.progress.contains("epoch 3/6") {
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(killed, "no trial reached epoch 3 while watched")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.retries >= 1, "\(cluster.log("coordinator").suffix(4000))")
            let report = try JSONSerialization.jsonObject(with: Data(disturbed.reportJson.utf8)) as? [String: Any] ?? [:]
            #expect(report["trials"] as? Int == 4 && report["epochsTrained"] as? Int == 24, "each trial counted once: \(report)")
            #expect((report["resumed"] as? [Int] ?? []).count >= 1, "no trial resumed from a mid-trial checkpoint")

            let undisturbed = try cluster.run(Self.spec, timeoutMilliseconds: 300_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let reference = try Self.leaderboard(undisturbed.reportJson)
            #expect(reference.count == 4)
            #expect(try Self.leaderboard(disturbed.reportJson) == reference)
        }

        /// ASHA over small MLPs on MNIST-5k: many promotions within a few seconds.
        static func ashaSpec(_ promotionState: String) -> String {
            """
            name: nas-asha-\(promotionState)
            workload: nas
            max_attempts: 4
            nas:
              dataset: mnist-5k
              strategy: asha
              epochs: 9
              min_epochs: 1
              reduction: 3
              budget: 45
              parallel: 2
              dev: 500
              latency_runs: 3
              seed: 4
              promotion_state: \(promotionState)
              space:
                family: mlp
                depth: {int: [1, 2]}
                width_1: {choice: [32, 64, 128]}
                width_2: {choice: [32, 64], when: depth >= 2}
                learning_rate: {log: [0.001, 0.05]}
                batch_size: {choice: [32, 64]}
            """
        }

        /// Every (configuration, epochs) → dev accuracy a run's trials reached, from trials.csv
        /// (`trial,epochs,dev_accuracy,…,"configuration"`).
        static func reached(_ job: Orrery_V1_JobInfo) throws -> [String: String] {
            let csv = try #require(job.reportFiles["trials.csv"])
            var reached: [String: String] = [:]
            for line in csv.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: ",", maxSplits: 7)
                guard fields.count == 8 else { continue }
                reached["\(fields[7]) @\(fields[1])"] = String(fields[2])
            }
            return reached
        }

        @Test("ASHA with states kept on their workers: promotions continue there or from the committed copy, never train twice, and score as a run through the coordinator")
        func ashaKeptStates() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            try cluster.startWorker("w0")
            let victim = try cluster.startWorker("w1")
            #expect(cluster.waitForWorkers(["w0", "w1"]))
            let returned = try cluster.run(Self.ashaSpec("returned"), timeoutMilliseconds: 300_000)
            #expect(returned.state == .succeeded, "\(returned.error)")
            let kept = try cluster.run(Self.ashaSpec("kept"), timeoutMilliseconds: 300_000)
            #expect(kept.state == .succeeded, "\(kept.error)")
            let report = try JSONSerialization.jsonObject(with: Data(kept.reportJson.utf8)) as? [String: Any] ?? [:]
            let onKeeper = report["promotionsOnKeeper"] as? Int ?? -1
            let elsewhere = report["promotionsElsewhere"] as? Int ?? -1
            #expect(onKeeper >= 1 && elsewhere >= 0 && report["epochsRetrained"] as? Int == 0, "\(report)")
            // Which trials ASHA promotes depends on the order results arrive, but a
            // configuration trained to a budget scores the same wherever it ran and whichever
            // way its state travelled.
            let reference = try Self.reached(returned)
            let reachedKept = try Self.reached(kept)
            let shared = Set(reference.keys).intersection(reachedKept.keys)
            #expect(shared.count >= 4 && shared.contains { $0.hasSuffix("@9") || $0.hasSuffix("@3") }, "\(reference) vs \(reachedKept)")
            for key in shared { #expect(reference[key] == reachedKept[key], "\(key)") }
        }

        @Test("kill -9 of the worker keeping ASHA's states while it runs a promotion: the promotion continues on another worker, nothing is trained twice")
        func ashaKeeperKilled() throws {
            // One small CNN shape (an epoch takes a while), rungs at 1 and 3 epochs.
            let spec = """
                name: nas-asha-kill
                workload: nas
                max_attempts: 4
                nas:
                  dataset: mnist-5k
                  strategy: asha
                  epochs: 3
                  min_epochs: 1
                  reduction: 3
                  budget: 12
                  parallel: 2
                  dev: 500
                  latency_runs: 3
                  seed: 4
                  space:
                    family: cnn
                    blocks: 1
                    channels_1: 8
                    head: 0
                    learning_rate: {log: [0.002, 0.02]}
                    batch_size: {choice: [16, 32]}
                """
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            let victim = try cluster.startWorker("w1")
            #expect(cluster.waitForWorkers(["w1"]))
            let client = try cluster.client()
            let id = try client.submit(specYAML: spec, sourceName: "nas.yaml", watch: true)
            // w1 alone trains the first-rung trials and keeps their states. After three, ASHA
            // promotes the best to 3 epochs (on w1, which keeps it); once the fourth is in, w1
            // is on that promotion, and is killed: a second worker must continue it from the
            // copy w1 committed (or from the promotion's own first epoch).
            var killed = false
            var started: Error?
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                if !killed, let epochs = Self.epochsDone(info.progress), epochs >= 4 {
                    do { _ = try cluster.startWorker("w0") } catch { started = error }
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(started == nil)
            #expect(killed, "the job ended before 4 epochs were seen")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            let report = try JSONSerialization.jsonObject(with: Data(disturbed.reportJson.utf8)) as? [String: Any] ?? [:]
            #expect(report["epochsTrained"] as? Int ?? 0 <= 12 && report["epochsRetrained"] as? Int == 0, "\(report)")
            #expect(report["promotionsElsewhere"] as? Int ?? 0 >= 1, "no promotion continued away from the worker that kept its state: \(report)")
        }

        /// The epochs a NAS job's status line counts ("5 trials, 12/45 epochs, …").
        static func epochsDone(_ progress: String) -> Int? {
            guard let range = progress.range(of: #"(\d+)/\d+ epochs"#, options: .regularExpression) else { return nil }
            return Int(progress[range].split(separator: "/")[0])
        }
    }
}
