import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    @Suite("Fault tolerance")
    struct KillWorkerTests {
        @Test("kill -9 of a worker mid-task: its tasks are leased again and every result counts exactly once")
        func killWorkerMidTask() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            try cluster.startCoordinator()
            let victim = try cluster.startWorker("victim")
            try cluster.startWorker("survivor")
            #expect(cluster.waitForWorkers(["victim", "survivor"]))

            let client = try cluster.client()
            let jobID = try client.submit(
                specYAML: "name: kill-test\nworkload: noop\nmax_attempts: 3\nnoop:\n  tasks: 30\n  sleep_ms: 150\n",
                sourceName: "kill.yaml", watch: true)
            // Wait until the victim is in the middle of a task, then kill it outright.
            let busy = eventually(timeoutMilliseconds: 15_000, every: 20) {
                guard let status = try? cluster.status() else { return false }
                let victimBusy = status.workers.first { $0.workerID == "victim" }.map { $0.runningTasks > 0 } ?? false
                let started = status.jobs.first { $0.jobID == jobID }.map { $0.tasksDone >= 2 } ?? false
                return victimBusy && started
            }
            #expect(busy)
            victim.signal(SIGKILL)
            #expect(victim.wait(timeoutMilliseconds: 5_000) == 128 + SIGKILL)

            let job = try client.follow(jobID: jobID, onUpdate: { _ in })
            #expect(job.state == .succeeded, "\(job.error)\ncoordinator log:\n\(cluster.log("coordinator"))")
            #expect(job.tasksDone == 30)
            #expect(job.tasksFailed == 0)
            #expect(job.retries >= 1)
            let report = try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as! [String: Any]
            #expect(report["succeeded"] as? Int == 30)
            #expect(report["duplicateOutcomes"] as? Int == 0)
            #expect((report["retried"] as? Int ?? 0) >= 1)
            let status = try cluster.status()
            #expect(status.counters.workersDeclaredDead == 1)
            #expect(status.counters.tasksCompleted == 30)
        }

        @Test("a cancelled job's running task is stopped on the worker, freeing its slot")
        func cancelStopsRunningTask() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("single", slots: 1)
            #expect(cluster.waitForWorkers(["single"]))
            let client = try cluster.client()
            let slow = try client.submit(
                specYAML: "name: slow\nworkload: noop\nnoop:\n  tasks: 2\n  sleep_ms: 60000\n", sourceName: "slow.yaml",
                watch: false)
            #expect(
                eventually { (try? cluster.status().workers.first?.runningTasks) ?? 0 > 0 })
            let cancelled = try client.cancel(jobID: slow)
            #expect(cancelled.state == .cancelled)
            // The only slot was sleeping for a minute; a quick job can run only if the
            // worker really stopped that task.
            let quick = try cluster.run("name: quick\nworkload: noop\nnoop:\n  tasks: 5\n", timeoutMilliseconds: 20_000)
            #expect(quick.state == .succeeded)
            #expect(cluster.log("single").contains("cancelled 1 task(s)") || cluster.log("single").contains("cancelled 2 task(s)"))
        }

        @Test("SIGTERM drains the coordinator: running tasks finish, the watcher is told, exit status 0")
        func coordinatorDrain() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 1)
            #expect(cluster.waitForWorkers(["w"]))
            let client = try cluster.client()
            let id = try client.submit(
                specYAML: "name: drain\nworkload: noop\nnoop:\n  tasks: 3\n  sleep_ms: 800\n", sourceName: "d.yaml", watch: true)
            #expect(eventually { (try? cluster.status().workers.first?.runningTasks) ?? 0 > 0 })
            cluster.coordinator?.signal(SIGTERM)
            #expect(throws: (any Error).self) { try client.follow(jobID: id, onUpdate: { _ in }) }
            #expect(cluster.coordinator?.wait(timeoutMilliseconds: 10_000) == 0)
            let log = cluster.log("coordinator")
            #expect(log.contains("draining"))
        }

        @Test("a second SIGTERM ends the drains of the coordinator and a worker at once, with status 0")
        func secondSignalStopsAtOnce() throws {
            let cluster = try TestCluster()
            _ = try cluster.startCoordinator(extra: ["--drain-timeout", "60s"])
            let worker = try cluster.startWorker("w", slots: 1, extra: ["--grace-period", "60s"])
            #expect(cluster.waitForWorkers(["w"]))
            let client = try cluster.client()
            _ = try client.submit(
                specYAML: "name: long\nworkload: noop\nnoop:\n  tasks: 2\n  sleep_ms: 60000\n", sourceName: "l.yaml", watch: false)
            #expect(eventually { (try? cluster.status().workers.first?.runningTasks) ?? 0 > 0 })
            for name in ["coordinator", "w"] {
                let process = name == "w" ? worker : cluster.coordinator!
                process.signal(SIGTERM)
                #expect(eventually { cluster.log(name).contains("SIGTERM") })
                // The first signal only drains: a task that sleeps a minute keeps it alive.
                #expect(process.wait(timeoutMilliseconds: 500) == nil)
                process.signal(SIGTERM)
                #expect(process.wait(timeoutMilliseconds: 10_000) == 0)
                #expect(cluster.log(name).contains("second SIGTERM"), "\(cluster.log(name))")
            }
        }
    }
}

extension ClusterTests {
    @Suite("Training through the cluster")
    struct ClusterTrainingTests {
        @Test("a train job runs on a worker process, streams its epochs as progress, and reports its accuracy")
        func trainOnWorker() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("trainer")
            #expect(cluster.waitForWorkers(["trainer"]))
            let client = try cluster.client()
            let id = try client.submit(
                specYAML: "name: digits\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [128]\n  batch_size: 32\n  epochs: 10\n  seed: 3\n",
                sourceName: "digits.yaml", watch: true)
            var notes: Set<String> = []
            let job = try client.follow(jobID: id, onUpdate: { if !$0.progress.isEmpty { notes.insert($0.progress) } })
            #expect(job.state == .succeeded, "\(job.error)")
            let report = try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as! [String: Double]
            #expect((report["test_accuracy"] ?? 0) >= 0.9)
            #expect(notes.contains { $0.hasPrefix("epoch ") }, "\(notes)")
        }
    }
}
