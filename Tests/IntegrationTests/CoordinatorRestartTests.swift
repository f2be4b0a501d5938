import Client
import Foundation
import Glibc
import OrreryTestSupport
import Runtime
import Testing
import Wire

extension ClusterTests {
    /// kill -9 of the coordinator, restarted on the same state directory: jobs resume from
    /// the ledger and end as an undisturbed run does.
    @Suite("Coordinator restart")
    struct CoordinatorRestartTests {
        /// 10,000 tasks in 100 adaptive rounds: each round's points depend on every earlier
        /// result, so a planner rebuilt wrongly ends with another leaderboard.
        static let sweep = """
            name: restart-sweep
            workload: sweep
            max_attempts: 3
            sweep:
              function: rastrigin
              dimensions: 4
              strategy: random
              points: 400
              rounds: 100
              batch: 4
              seed: 7
            """

        /// Kills the coordinator with SIGKILL and starts it again on the same endpoint and
        /// state directory.
        private func killAndRestart(_ cluster: TestCluster, endpoint: String, extra: [String] = []) throws {
            cluster.coordinator?.signal(SIGKILL)
            #expect(cluster.coordinator?.wait(timeoutMilliseconds: 5_000) == 128 + SIGKILL)
            let started = eventually(timeoutMilliseconds: 10_000, every: 100) {
                (try? cluster.startCoordinator(endpoint: endpoint, extra: extra)) != nil
            }
            #expect(started, "coordinator log:\n\(cluster.log("coordinator").suffix(2000))")
        }

        /// Follows `jobID` from a thread of its own while the test kills the coordinator.
        private final class Follower: @unchecked Sendable {
            private let lock = NSLock()
            private var outcome: Result<Orrery_V1_JobInfo, Error>?
            private let done = DispatchSemaphore(value: 0)

            init(cluster: TestCluster, jobID: String) throws {
                nonisolated(unsafe) let client = try cluster.client()  // used by the thread alone from here on
                client.silenceTimeoutMilliseconds = 30_000
                Thread.detachNewThread {
                    let result = Result { try client.watch(jobID: jobID, onUpdate: { _ in }) }
                    self.lock.withLock { self.outcome = result }
                    self.done.signal()
                }
            }

            var isDone: Bool { lock.withLock { outcome != nil } }

            func wait(seconds: Int) throws -> Orrery_V1_JobInfo {
                guard done.wait(timeout: .now() + .seconds(seconds)) == .success else {
                    throw TestClusterError("the job did not end within \(seconds) s")
                }
                return try lock.withLock { try outcome!.get() }
            }
        }

        @Test("a sweep survives 20 kill -9s of its coordinator: same leaderboard, every task counted once")
        func sweepSurvivesKills() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let endpoint = try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w1", "w2"]))
            let started = MonotonicClock.milliseconds
            let undisturbed = try cluster.run(Self.sweep, timeoutMilliseconds: 120_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let duration = max(400, MonotonicClock.milliseconds - started)

            let jobID = try cluster.client().submit(specYAML: Self.sweep, sourceName: "restart.yaml", watch: false)
            let follower = try Follower(cluster: cluster, jobID: jobID)
            var generator = SystemRandomNumberGenerator()
            var kills = 0
            while kills < 20 && !follower.isDone {
                usleep(UInt32.random(in: 0...UInt32(duration / 10 * 1000), using: &generator))
                try killAndRestart(cluster, endpoint: endpoint)
                kills += 1
            }
            let disturbed = try follower.wait(seconds: 180)
            #expect(kills >= 10, "the job ended after \(kills) kills of its coordinator")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.tasksDone == undisturbed.tasksDone)
            #expect(disturbed.tasksFailed == 0)
            #expect(disturbed.reportJson == undisturbed.reportJson)
            #expect(disturbed.reportText == undisturbed.reportText)
            let log = cluster.log("coordinator")
            let resumes = log.components(separatedBy: "job resumed").count - 1
            #expect(resumes >= 10, "the job was resumed \(resumes) times after \(kills) kills")
            print("sweep: \(kills) kills, \(resumes) resumes, undisturbed \(duration) ms")
            #expect(!log.contains("job not resumed"), "\(log.suffix(3000))")
        }

        @Test("a prompt search survives kill -9s of its coordinator: the same leaderboard as an undisturbed run, every score once")
        func promptSearchSurvivesKills() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let endpoint = try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w1", "w2"]))
            let spec = PromptSearchClusterTests.spec
            // Batches of 6 for the reference: other payloads, so it leaves nothing in the
            // cross-job cache that the disturbed run (batches of 5) could reuse.
            let started = MonotonicClock.milliseconds
            let undisturbed = try cluster.run(spec.replacingOccurrences(of: "batch: 5", with: "batch: 6"), timeoutMilliseconds: 300_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            let duration = max(1_000, MonotonicClock.milliseconds - started)

            let jobID = try cluster.client().submit(specYAML: spec, sourceName: "ps.yaml", watch: false)
            let follower = try Follower(cluster: cluster, jobID: jobID)
            var kills = 0
            while kills < 5 && !follower.isDone {
                usleep(UInt32.random(in: UInt32(duration / 10 * 1000)...UInt32(duration / 5 * 1000)))
                try killAndRestart(cluster, endpoint: endpoint)
                kills += 1
            }
            let disturbed: Orrery_V1_JobInfo
            do {
                disturbed = try follower.wait(seconds: 40)
            } catch {
                let status = (try? cluster.status())?.jobs.map {
                    "\($0.jobID): \($0.state) done \($0.tasksDone) queued \($0.tasksQueued) running \($0.tasksRunning)"
                } ?? []
                Issue.record("\(error): \(status)\n\(cluster.log("coordinator").suffix(6000))\nw1:\n\(cluster.log("w1").suffix(3000))")
                return
            }
            #expect(kills >= 3, "the search ended after \(kills) kills")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.tasksCached == 0)
            let report = PromptSearchClusterTests.report(disturbed)
            #expect(report["devEvaluations"] as? Int == 4 * 60, "\(report)")
            #expect(report["duplicateScoresIgnored"] as? Int == 0)
            #expect(PromptSearchClusterTests.board(report) == PromptSearchClusterTests.board(PromptSearchClusterTests.report(undisturbed)))
            #expect(report["best"] as? [String: AnyHashable] == PromptSearchClusterTests.report(undisturbed)["best"] as? [String: AnyHashable])
            #expect(!cluster.log("coordinator").contains("job not resumed"))
        }

        @Test("a data-parallel gang survives kill -9s of its coordinator: it resumes from the ledger's checkpoint and ends with the undisturbed run's model")
        func gangSurvivesKills() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let endpoint = try cluster.startCoordinator(extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
            for id in ["g0", "g1", "g2"] { try cluster.startWorker(id) }
            #expect(cluster.waitForWorkers(["g0", "g1", "g2"]))
            let spec = DataParallelClusterTests.spec
            let undisturbed = try cluster.run(spec, timeoutMilliseconds: 180_000)
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")

            let jobID = try cluster.client().submit(specYAML: spec, sourceName: "dp.yaml", watch: false)
            let follower = try Follower(cluster: cluster, jobID: jobID)
            var kills = 0
            // Kill once the gang has committed a checkpoint, three times over.
            while kills < 3 && !follower.isDone {
                let progressed = eventually(timeoutMilliseconds: 60_000, every: 50) {
                    follower.isDone || cluster.log("coordinator").components(separatedBy: "job resumed").count - 1 == kills
                        && ((try? cluster.status().counters.checkpointsCommitted) ?? 0) > 0
                }
                guard progressed, !follower.isDone else { break }
                usleep(UInt32.random(in: 100_000...600_000))
                try killAndRestart(cluster, endpoint: endpoint, extra: ["--gang-gather", "500ms", "--collective-timeout", "20s"])
                kills += 1
            }
            let disturbed = try follower.wait(seconds: 240)
            #expect(kills >= 2, "training ended after \(kills) kills")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            let before = try ExactDataParallelSpec.metrics(undisturbed)
            let after = try ExactDataParallelSpec.metrics(disturbed)
            #expect(after["workers"] == 3 && before["workers"] == 3, "\(after)")
            #expect((after["resumed_at_step"] ?? 0) > 0, "\(after)")
            // The same gang size, resumed from a checkpoint: the same model, to the bit.
            #expect(after["test_accuracy"] == before["test_accuracy"], "\(after) vs \(before)")
            #expect(after["test_loss"] == before["test_loss"], "\(after) vs \(before)")
        }

        @Test("noop tasks held by workers across a kill -9 are kept, not run again; status and jobs outlive restarts")
        func heldTasksAreReattached() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let endpoint = try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 2)
            try cluster.startWorker("w2", slots: 2)
            #expect(cluster.waitForWorkers(["w1", "w2"]))
            let jobID = try cluster.client().submit(
                specYAML: "name: held\nworkload: noop\nmax_attempts: 2\nnoop:\n  tasks: 24\n  sleep_ms: 700\n",
                sourceName: "held.yaml", watch: false)
            let follower = try Follower(cluster: cluster, jobID: jobID)
            // Kill while every slot runs a 700 ms task: the workers finish them while the
            // coordinator is away and report them once they have registered again.
            #expect(eventually(timeoutMilliseconds: 10_000, every: 20) {
                (try? cluster.status().workers.map(\.runningTasks).reduce(0, +)) == 4
            })
            try killAndRestart(cluster, endpoint: endpoint)
            let job = try follower.wait(seconds: 60)
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(job.tasksDone == 24)
            let report = try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as! [String: Any]
            #expect(report["succeeded"] as? Int == 24)
            #expect(report["duplicateOutcomes"] as? Int == 0)
            // The four tasks in flight at the kill were re-attached, not run a second time.
            #expect(report["retried"] as? Int == 0, "\(job.reportJson)\n\(cluster.log("coordinator").suffix(3000))")

            try killAndRestart(cluster, endpoint: endpoint)
            let after = try cluster.client().watch(jobID: jobID, onUpdate: { _ in })
            #expect(after.state == .succeeded)
            #expect(after.reportJson == job.reportJson)
            #expect(try cluster.status().jobs.contains { $0.jobID == jobID && $0.tasksDone == 24 })
            // `status JOB` and `jobs`, after yet another restart.
            let second = try cluster.client().submit(
                specYAML: "name: second\nworkload: noop\nnoop:\n  tasks: 5\n", sourceName: "second.yaml", watch: true)
            _ = try cluster.client().follow(jobID: second, onUpdate: { _ in })
            try killAndRestart(cluster, endpoint: endpoint)
            let one = try cluster.client().job(jobID)
            #expect(one.state == .succeeded && one.reportJson == job.reportJson && one.tasksDone == 24)
            let list = try cluster.client().jobs(limit: 10)
            #expect(list.total == 2)
            #expect(list.jobs.map(\.jobID) == [second, jobID])
            #expect(list.jobs.map(\.name) == ["second", "held"])
            #expect(list.jobs.allSatisfy { $0.state == .succeeded && $0.reportJson.isEmpty })
            #expect(try cluster.client().jobs(limit: 1).jobs.map(\.jobID) == [second])
            #expect(throws: ClientError.self) { try cluster.client().job("no-such-job") }
        }

        @Test("a damaged ledger is refused by name and left in place")
        func damagedLedgerIsRefused() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            cluster.coordinator?.signal(SIGKILL)
            _ = cluster.coordinator?.wait(timeoutMilliseconds: 5_000)
            let path = cluster.stateDirectory + "/ledger.sqlite"
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try garbage.write(to: URL(fileURLWithPath: path))
            #expect(throws: TestClusterError.self) { try cluster.startCoordinator() }
            #expect(cluster.coordinator?.wait(timeoutMilliseconds: 5_000) == 3)
            let log = cluster.log("coordinator")
            #expect(log.contains("ledger \(path) is damaged"), "\(log.suffix(1000))")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        }
    }
}
