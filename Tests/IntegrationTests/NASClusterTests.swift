import Foundation
import Glibc
import OrreryTestSupport
import Testing

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
    }
}
