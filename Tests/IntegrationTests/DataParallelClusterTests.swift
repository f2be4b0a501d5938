import Foundation
import Glibc
import OrreryTestSupport
import Runtime
import Testing
import Wire

extension ClusterTests {
    @Suite("Data-parallel training on a gang")
    struct DataParallelClusterTests {
        static let spec = ExactDataParallelSpec.yaml(name: "dp-fashion", epochs: 4, examples: 12000, seed: 4)

        @Test("kill -9 of a gang member mid-training: the survivors re-form, resume from the checkpoint, and end bit-identical to an undisturbed run")
        func killMemberMidTraining() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            try cluster.startWorker("w0")
            let victim = try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))

            let client = try cluster.client()
            let id = try client.submit(specYAML: Self.spec, sourceName: "dp.yaml", watch: true)
            var killed = false
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                // The first epoch note seen, before the last epoch: notes reach watchers at
                // most every 250 ms, and an epoch here can take less, so "epoch 1" may never
                // be seen by itself.
                if !killed && ["epoch 1:", "epoch 2:", "epoch 3:"].contains(where: info.progress.hasPrefix) {
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(killed, "training ended before the first epoch was reported")
            #expect(
                disturbed.state == .succeeded,
                "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))\nw0:\n\(cluster.log("w0").suffix(4000))\nw2:\n\(cluster.log("w2").suffix(3000))")
            #expect(disturbed.retries >= 1)
            let after = try ExactDataParallelSpec.metrics(disturbed)
            #expect(after["workers"] == 2, "\(after)")
            // Co-located workers all-reduce through shared memory; on hosts of their own
            // (ORRERY_TEST_NETNS=1) over TCP.
            #expect(after["shared_memory"] == (cluster.lab == nil ? 1 : 0), "\(after)")
            #expect((after["resumed_at_step"] ?? 0) >= 20, "\(after)")
            #expect(cluster.log("coordinator").contains("gang formed"))

            let undisturbed = try client.follow(
                jobID: try client.submit(specYAML: Self.spec, sourceName: "dp.yaml", watch: true), onUpdate: { _ in })
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let reference = try ExactDataParallelSpec.metrics(undisturbed)
            #expect((reference["test_accuracy"] ?? 0) > 0.8, "\(reference)")
            // The disturbed run trained on 3 workers, then on 2 from the checkpoint on; the
            // reference ran on the 2 left. With exact_shards a global batch's gradient is the
            // same bits on any number of workers, and so is the model.
            #expect(after["test_accuracy"] == reference["test_accuracy"], "disturbed \(after) vs undisturbed \(reference)")
            #expect(after["test_loss"] == reference["test_loss"], "disturbed \(after) vs undisturbed \(reference)")
        }
        @Test("losing a member is not a failed attempt: a job with max_attempts 2 survives two kills")
        func memberLossesDoNotUseAttempts() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator(extra: ["--gang-gather", "300ms", "--collective-timeout", "20s"])
            var workers: [String: ChildProcess] = [:]
            for id in ["m0", "m1", "m2", "m3"] { workers[id] = try cluster.startWorker(id) }
            #expect(cluster.waitForWorkers(Array(workers.keys)))
            let spec = Self.spec.replacingOccurrences(of: "max_attempts: 4", with: "max_attempts: 2")
                .replacingOccurrences(of: "workers: {min: 2, max: 3}", with: "workers: {min: 1, max: 2}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 8")
            let client = try cluster.client()
            let id = try client.submit(specYAML: spec, sourceName: "dp.yaml", watch: true)
            var kills: [String] = []
            let job = try client.follow(jobID: id, onUpdate: { info in
                // A busy member, at the first two epoch notes seen (of epochs 1 to 7).
                let epoch = (1...7).first { info.progress.hasPrefix("epoch \($0):") } ?? 0
                guard epoch > kills.count, kills.count < 2, let status = try? cluster.status() else { return }
                let busy = status.workers.filter { $0.runningTasks > 0 }.map(\.workerID).sorted()
                guard let victim = busy.last, let process = workers[victim] else { return }
                process.signal(SIGKILL)
                kills.append(victim)
            })
            #expect(kills.count == 2, "killed \(kills)")
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("coordinator").suffix(2000))")
            #expect(job.retries >= 2)
        }
    }
}
