import Foundation
import OrreryTestSupport
import Runtime
import Testing
import Wire

extension ClusterTests {
    @Suite("A worker written in C")
    struct CWorkerTests {
        /// Builds clients/c-worker with make (libzmq + protobuf-c from the same proto/ files).
        func buildCWorker() throws -> String {
            let directory = PackageRoot.url.appendingPathComponent("clients/c-worker").path
            let log = "\(NSTemporaryDirectory())/orrery-c-worker-build.log"
            let make = try ChildProcess(
                executable: "/usr/bin/make", arguments: ["-s", "-C", directory], standardOutput: .file(log),
                standardError: .file(log))
            let status = make.wait(timeoutMilliseconds: 120_000)
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard status == 0 else { throw TestClusterError("make failed (\(String(describing: status))):\n\(output)") }
            return "\(directory)/build/orrery-c-worker"
        }

        static let spec = "name: c-sweep\nworkload: sweep\nsweep:\n  function: six_hump_camel\n  points: 225\n  rounds: 2\n  batch: 15\n  seed: 11\n"

        @Test("registers with the Swift coordinator, heartbeats, and completes sweep tasks with the Swift worker's results")
        func cWorkerJoins() throws {
            let binary = try buildCWorker()
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            _ = try cluster.startProcess(
                "c-worker", executable: binary, arguments: ["--coordinator", cluster.endpoint, "--id", "c-worker", "--heartbeat-ms", "200"])
            #expect(cluster.waitForWorkers(["c-worker"]), "log:\n\(cluster.log("c-worker"))")
            let info = try #require(try cluster.status().workers.first)
            #expect(info.agent == "orrery-c/1")
            #expect(info.capabilities == ["sweep"])

            let fromC = try cluster.run(Self.spec)
            #expect(fromC.state == .succeeded, "\(fromC.error)")
            #expect(fromC.tasksDone == 30)

            // Heartbeats keep it alive well past the dead-after limit (3 × 200 ms).
            usleep(1_500_000)
            let later = try cluster.status()
            #expect(later.workers.map(\.workerID) == ["c-worker"])
            #expect(later.counters.workersDeclaredDead == 0)

            // The same job on a Swift worker gives the same ranking, number for number.
            cluster.stopAll()
            let swift = try TestCluster()
            try swift.startCoordinator()
            try swift.startWorker("swift-worker")
            #expect(swift.waitForWorkers(["swift-worker"]))
            let fromSwift = try swift.run(Self.spec)
            #expect(fromSwift.reportJson == fromC.reportJson)
        }

        @Test("talks CURVE to a CURVE coordinator with a key from orrery keygen; an unlisted key gets nothing")
        func cWorkerOverCurve() throws {
            let binary = try buildCWorker()
            let cluster = try TestCluster(heartbeat: "200ms", curveNames: ["c-worker"])
            try cluster.startCoordinator()
            try cluster.makeKey("c-stranger")
            _ = try cluster.startProcess(
                "c-worker", executable: binary,
                arguments: ["--coordinator", cluster.endpoint, "--id", "c-worker", "--heartbeat-ms", "200"]
                    + cluster.curveFlags("c-worker", allow: nil))
            _ = try cluster.startProcess(
                "c-stranger", executable: binary,
                arguments: ["--coordinator", cluster.endpoint, "--id", "c-stranger", "--heartbeat-ms", "200"]
                    + cluster.curveFlags("c-stranger", allow: nil))
            #expect(cluster.waitForWorkers(["c-worker"]), "log:\n\(cluster.log("c-worker"))")
            let job = try cluster.run(Self.spec)
            #expect(job.state == .succeeded, "\(job.error)")
            // The stranger may not have knocked yet when a short job ends (a loaded machine starts
            // it late), so wait for the refusal instead of reading the counter once.
            let refused = eventually(timeoutMilliseconds: 10_000) { ((try? cluster.status().counters.curveRefused) ?? 0) >= 1 }
            #expect(refused, "the stranger's log:\n\(cluster.log("c-stranger").suffix(1500))")
            #expect(try cluster.status().workers.map(\.workerID) == ["c-worker"], "the unlisted C worker never registers")
        }
    }
}
