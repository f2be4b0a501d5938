import Foundation
import Glibc
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    @Suite("Prompt search on a cluster")
    struct PromptSearchClusterTests {
        /// 4 MiniLM candidates × 60 dev tweets in tasks of 5: 48 scoring tasks, then the test split.
        static let spec = """
            name: ps-kill
            workload: prompt-search
            max_attempts: 4
            prompt-search:
              task: vader-tweets
              scorer: minilm
              dev: 60
              test: 30
              batch: 5
              templates: ["{text}", "Tweet: {text}"]
              verbalizers: [[negative, positive], [a sad tweet, a happy tweet]]
            """

        static func report(_ job: Orrery_V1_JobInfo) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as? [String: Any]) ?? [:]
        }

        /// (candidate, correct, seen) rows: what must not change when a worker dies.
        static func board(_ report: [String: Any]) -> [String] {
            (report["leaderboard"] as? [[String: Any]] ?? []).map { "\($0["candidate"] ?? "")=\($0["devCorrect"] ?? "")/\($0["devSeen"] ?? "")" }.sorted()
        }

        @Test("kill -9 of a worker mid-search: the search completes with every score once, the same as an undisturbed run")
        func killWorkerMidSearch() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            defer { cluster.stopAll() }
            try cluster.startCoordinator()
            try cluster.startWorker("w0")
            let victim = try cluster.startWorker("w1")
            try cluster.startWorker("w2")
            #expect(cluster.waitForWorkers(["w0", "w1", "w2"]))

            let client = try cluster.client()
            let id = try client.submit(specYAML: Self.spec, sourceName: "ps.yaml", watch: true)
            var killed = false
            var liveBest = "", liveBoard = ""
            let disturbed = try client.follow(jobID: id, onUpdate: { info in
                if info.progress.contains("best") { liveBest = info.progress }
                // The live leaderboard, as `orrery status` shows it, once a candidate is scored.
                if info.state == .running, !liveBoard.contains("dev acc"), info.progress.contains("best"),
                    let job = (try? cluster.status())?.jobs.first(where: { $0.jobID == id })
                {
                    liveBoard = job.reportText
                }
                guard !killed, info.tasksDone >= 6 else { return }
                // Kill it while it holds a lease, so that a task is really lost with it.
                if let status = try? cluster.status(), status.workers.first(where: { $0.workerID == "w1" })?.runningTasks ?? 0 > 0 {
                    victim.signal(SIGKILL)
                    killed = true
                }
            })
            #expect(killed, "the search ended before the victim could be killed")
            #expect(liveBest.contains(" scored, best "), "\(liveBest)")
            #expect(liveBoard.contains("dev acc  95% interval"), "\(liveBoard)")
            #expect(disturbed.state == .succeeded, "\(disturbed.error)\n\(cluster.log("coordinator").suffix(3000))")
            #expect(disturbed.retries >= 1)
            let report = Self.report(disturbed)
            #expect(report["devEvaluations"] as? Int == 4 * 60, "\(report)")
            #expect(report["duplicateScoresIgnored"] as? Int == 0)
            #expect(report["tasksFailed"] as? Int == 0)
            #expect(!(report["test"] as? [Any] ?? []).isEmpty)
            #expect(disturbed.reportFiles["leaderboard.csv"] != nil)

            // Tasks of 6 tweets, not 5: other task payloads, so the cross-job cache has none of
            // them and every score is computed again.
            let undisturbed = try client.follow(
                jobID: try client.submit(specYAML: Self.spec.replacingOccurrences(of: "batch: 5", with: "batch: 6"), sourceName: "ps.yaml", watch: true),
                onUpdate: { _ in })
            #expect(undisturbed.state == .succeeded, "\(undisturbed.error)")
            #expect(undisturbed.tasksCached == 0)
            #expect(Self.board(report) == Self.board(Self.report(undisturbed)))
            #expect(Self.board(report).count == 4)

            // The first job's spec again: every score comes from the ledger's cache, none is run.
            let completedBefore = try cluster.status().counters.tasksCompleted
            let again = try client.follow(
                jobID: try client.submit(specYAML: Self.spec, sourceName: "ps.yaml", watch: true), onUpdate: { _ in })
            #expect(again.state == .succeeded, "\(again.error)")
            #expect(again.tasksCached == again.tasksDone && again.tasksDone > 0, "\(again.tasksCached) of \(again.tasksDone) from the cache")
            #expect(try cluster.status().counters.tasksCompleted == completedBefore)
            #expect(try cluster.status().counters.cacheHits == again.tasksCached)
            #expect(Self.board(Self.report(again)) == Self.board(report))
            #expect(again.reportFiles["leaderboard.csv"] == disturbed.reportFiles["leaderboard.csv"])
        }
    }
}
