import Foundation
import Glibc
import OrreryTestSupport
import Runtime
import Testing
import Wire

extension ClusterTests {
    /// The coordinator and every worker on hosts of their own (network namespaces cabled to
    /// one bridge): real TCP between different addresses, no shared memory or ipc between
    /// daemons. Skipped, saying why, where namespaces cannot be made (not root).
    @Suite("Across hosts (network namespaces)", .enabled(if: NetworkLab.isAvailable, "\(NetworkLab.unavailableReason ?? "")"))
    struct MultiHostTests {
        /// A data-parallel job whose result does not depend on how many workers ran it
        /// (`exact_shards`), so runs can be compared bit for bit.
        static let spec = spec(epochs: 3, examples: 9000)

        static func spec(epochs: Int, examples: Int) -> String {
            ExactDataParallelSpec.yaml(name: "multi-host-dp", epochs: epochs, examples: examples, seed: 5)
        }

        @Test("four hosts with CURVE on both planes: a gang trains over TCP between addresses, not shared memory")
        func gangAcrossHostsWithCurve() throws {
            let lab = try NetworkLab()
            let cluster = try TestCluster(heartbeat: "200ms", curveNames: ["w0", "w1", "w2"], lab: lab)
            let endpoint = try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "10s"])
            #expect(endpoint.hasPrefix("tcp://\(try lab.host(0).address):"))
            for id in ["w0", "w1", "w2"] { try cluster.startWorker(id) }
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]), "\(cluster.log("coordinator").suffix(2000))")
            let job = try cluster.run(Self.spec, timeoutMilliseconds: 240_000)
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("w0").suffix(3000))")
            let report = try ExactDataParallelSpec.metrics(job)
            #expect(report["workers"] == 3, "\(report)")
            #expect(report["shared_memory"] == 0, "daemons on different hosts cannot share memory: \(report)")
            #expect((report["test_accuracy"] ?? 0) > 0.75, "\(report)")
            for (index, id) in ["w0", "w1", "w2"].enumerated() {
                let address = try lab.host(index + 1).address
                #expect(cluster.log(id).contains("tcp://\(address):"), "\(id)'s data plane listens on its own host's address")
            }
            #expect(try cluster.status().counters.curveAdmitted >= 3)
        }

        @Test("a worker's cable cut mid-job: declared dead within the liveness window, the gang re-forms, the job completes once; restored, it registers again")
        func cutLinkMidJob() throws {
            let lab = try NetworkLab()
            let cluster = try TestCluster(heartbeat: "200ms", lab: lab)
            try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "5s"])
            for id in ["w0", "w1", "w2"] { try cluster.startWorker(id) }
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))
            let client = try cluster.client()
            let id = try client.submit(specYAML: Self.spec, sourceName: "cut.yaml", watch: true)
            var cutAt: Int64?
            var declaredDeadAfter: Int64?
            let deadBefore = try cluster.status().counters.workersDeclaredDead
            let job = try client.follow(jobID: id, onUpdate: { info in
                if cutAt == nil && ["epoch 1:", "epoch 2:"].contains(where: info.progress.hasPrefix) {
                    // w2 is on host 3.
                    try? lab.setLink(3, up: false)
                    cutAt = MonotonicClock.milliseconds
                    let dead = eventually(timeoutMilliseconds: 10_000, every: 20) {
                        ((try? cluster.status().counters.workersDeclaredDead) ?? 0) > deadBefore
                    }
                    if dead { declaredDeadAfter = MonotonicClock.milliseconds - cutAt! }
                    try? lab.setLink(3, up: true)
                }
            })
            #expect(cutAt != nil, "the job ended before the first epoch was reported")
            let elapsed = try #require(declaredDeadAfter, "w2 was never declared dead")
            // Liveness window: 3 missed heartbeats of 200 ms; the rest is the coordinator's
            // next check and this test's polling.
            #expect(elapsed <= 600 + 1_000, "declared dead \(elapsed) ms after the cut")
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(job.retries >= 1)
            #expect(job.tasksDone == 1 && job.tasksTotal == 1)
            #expect(cluster.log("coordinator").contains("worker declared dead"))
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"], timeoutMilliseconds: 20_000), "w2 registers again once its cable is back")
            let report = try ExactDataParallelSpec.metrics(job)
            #expect((report["resumed_at_step"] ?? 0) >= 20, "the re-formed gang resumed from a checkpoint: \(report)")
        }

        @Test("a worker whose control link has 20 ms each way (a delaying relay on its host) stays alive and its gang trains to the same model")
        func workerBehindSlowLink() throws {
            let lab = try NetworkLab()
            let cluster = try TestCluster(heartbeat: "200ms", lab: lab)
            let endpoint = try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            let port = try #require(UInt16(endpoint.split(separator: ":").last ?? ""))
            try cluster.startWorker("near")
            // "far" is placed on host 2; it reaches the coordinator through a relay there.
            let relay = try TCPRelay(
                targetAddress: try lab.host(0).address, targetPort: port, namespace: try lab.host(2).namespace, delayMilliseconds: 20)
            defer { relay.stop() }
            try cluster.startWorker("far", extra: ["--coordinator", relay.endpoint])
            #expect(cluster.waitForWorkers(["near", "far"]), "\(cluster.log("far").suffix(2000))")
            let spec = Self.spec(epochs: 1, examples: 3000)
            let job = try cluster.run(spec, timeoutMilliseconds: 240_000)
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("far").suffix(2000))")
            let status = try cluster.status()
            #expect(status.counters.workersDeclaredDead == 0, "40 ms round trips fit the 600 ms liveness window")
            #expect(relay.capture.count > 200, "the far worker's control traffic went through the delayed link")
            let far = try #require(status.workers.first { $0.workerID == "far" })
            #expect(far.msSinceHeard < 600)
            let report = try ExactDataParallelSpec.metrics(job)
            #expect(report["workers"] == 2, "\(report)")
            // The same job with no delay, for the same bits.
            cluster.stopAll()
            let plain = try TestCluster(heartbeat: "200ms", lab: try NetworkLab())
            try plain.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            for id in ["near", "far"] { try plain.startWorker(id) }
            #expect(plain.waitForWorkers(["near", "far"]))
            let reference = try plain.run(spec, timeoutMilliseconds: 240_000)
            #expect(try ExactDataParallelSpec.metrics(reference)["test_loss"] == report["test_loss"], "the delay changes time, not the model")
        }

        @Test("a lossy link (1% of packets dropped) and a link shaped to 100 Mbit/s change nothing but time: the same model, bit for bit")
        func lossAndShapingChangeNothing() throws {
            let lab = try NetworkLab()
            let cluster = try TestCluster(heartbeat: "200ms", lab: lab)
            try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            for id in ["w0", "w1"] { try cluster.startWorker(id) }
            #expect(cluster.waitForWorkers(["w0", "w1"]))
            let spec = Self.spec(epochs: 1, examples: 3000)
            let clean = try cluster.run(spec, timeoutMilliseconds: 240_000)
            #expect(clean.state == .succeeded, "\(clean.error)")
            try lab.drop(1, percent: 1)
            try lab.shape(2, rate: "100mbit")
            let impaired = try cluster.run(spec, timeoutMilliseconds: 240_000)
            #expect(impaired.state == .succeeded, "\(impaired.error)\n\(cluster.log("w0").suffix(2000))")
            let (a, b) = (try ExactDataParallelSpec.metrics(clean), try ExactDataParallelSpec.metrics(impaired))
            #expect(a["test_loss"] != nil && a["test_loss"] == b["test_loss"], "clean \(a) vs impaired \(b)")
            #expect(a["test_accuracy"] == b["test_accuracy"])
        }
    }
}
