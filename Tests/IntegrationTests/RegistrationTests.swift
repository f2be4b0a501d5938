import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    @Suite("Registration and liveness")
    struct RegistrationTests {
        @Test("a worker process registers with its id, pid, slots and workloads")
        func registers() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let worker = try cluster.startWorker("alpha", slots: 3)
            #expect(cluster.waitForWorkers(["alpha"]), "worker log:\n\(cluster.log("alpha"))")
            let info = try #require(try cluster.status().workers.first)
            #expect(info.workerID == "alpha")
            #expect(info.pid == UInt32(worker.pid))
            #expect(info.slots == 3)
            #expect(info.capabilities.sorted() == ["compress", "meta-learn", "nas", "noop", "pipeline", "prompt-search", "prompt-tune", "sweep", "train"])
        }

        @Test("a worker that stops heartbeating is declared dead, and registers again when it wakes")
        func missedHeartbeats() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            let worker = try cluster.startWorker("sleepy")
            #expect(cluster.waitForWorkers(["sleepy"]))
            worker.signal(SIGSTOP)
            defer { worker.signal(SIGCONT) }
            let declaredDead = eventually(timeoutMilliseconds: 10_000) {
                guard let status = try? cluster.status() else { return false }
                return status.workers.isEmpty && status.counters.workersDeclaredDead == 1
            }
            #expect(declaredDead, "coordinator log:\n\(cluster.log("coordinator"))")
            worker.signal(SIGCONT)
            #expect(cluster.waitForWorkers(["sleepy"]), "worker log:\n\(cluster.log("sleepy"))")
            #expect(try cluster.status().counters.workersRegistered >= 2)
        }

        @Test("after the coordinator is killed and restarted, workers reconnect, register and run jobs")
        func coordinatorRestart() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let endpoint = try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w1", "w2"]))
            let firstID = try cluster.status().coordinatorID
            cluster.coordinator?.signal(SIGKILL)
            _ = cluster.coordinator?.wait(timeoutMilliseconds: 5_000)
            usleep(300_000)
            try cluster.startCoordinator(endpoint: endpoint)
            #expect(cluster.waitForWorkers(["w1", "w2"], timeoutMilliseconds: 20_000), "worker log:\n\(cluster.log("w1"))")
            // The same coordinator, resumed from its ledger: its id is kept.
            #expect(try cluster.status().coordinatorID == firstID)
            let job = try cluster.run(
                "name: after-restart\nworkload: sweep\nsweep:\n  function: himmelblau\n  points: 100\n  batch: 10\n")
            #expect(job.state == .succeeded)
            #expect(job.tasksDone == 10)
        }

        @Test("SIGTERM stops a worker cleanly with status 0")
        func workerSigterm() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let worker = try cluster.startWorker("polite")
            #expect(cluster.waitForWorkers(["polite"]))
            worker.signal(SIGTERM)
            #expect(worker.wait(timeoutMilliseconds: 10_000) == 0)
        }
    }
}
