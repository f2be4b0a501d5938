import Foundation
import Glibc
import OrreryTestSupport
import Runtime
import Testing

extension ClusterTests {
    @Suite("orrery launch leaves no process behind")
    struct LaunchLifecycleTests {
        /// Pids of live processes whose command line contains `marker`.
        func processes(containing marker: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                return command.contains(marker)
            }
        }

        func startLongLaunch() throws -> (ChildProcess, String) {
            let spec = "\(NSTemporaryDirectory())/orrery-long-\(UInt32.random(in: 0...UInt32.max)).yaml"
            try "name: long\nworkload: noop\nnoop:\n  tasks: 100\n  sleep_ms: 1000\n".write(toFile: spec, atomically: true, encoding: .utf8)
            let launcher = try ChildProcess(
                executable: OrreryBinary.path, arguments: ["launch", "--workers", "2", spec],
                standardOutput: .discard, standardError: .discard)
            // Workers are named local-<launcher pid>-<n>; wait until both run.
            let marker = "local-\(launcher.pid)-"
            #expect(eventually { processes(containing: marker).count == 2 })
            return (launcher, marker)
        }

        @Test("Ctrl-C (SIGINT) stops the launcher, its coordinator and its workers, with status 130")
        func interrupt() throws {
            let (launcher, marker) = try startLongLaunch()
            let coordinatorMarker = "--parent-pid \(launcher.pid)"
            #expect(processes(containing: coordinatorMarker).count == 3)
            launcher.signal(SIGINT)
            #expect(launcher.wait(timeoutMilliseconds: 20_000) == 130)
            #expect(eventually(timeoutMilliseconds: 10_000) { processes(containing: marker).isEmpty })
            #expect(eventually(timeoutMilliseconds: 10_000) { processes(containing: coordinatorMarker).isEmpty })
        }

        @Test("a launcher killed outright (SIGKILL) takes its daemons with it")
        func killedLauncher() throws {
            let (launcher, _) = try startLongLaunch()
            let children = "--parent-pid \(launcher.pid)"
            launcher.signal(SIGKILL)
            #expect(launcher.wait(timeoutMilliseconds: 5_000) == 128 + SIGKILL)
            #expect(eventually(timeoutMilliseconds: 15_000) { processes(containing: children).isEmpty })
        }
    }

    @Suite("Lease deadlines")
    struct DeadlineTests {
        @Test("a task that outlives its deadline is leased again, then fails naming the deadline")
        func deadline() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("slowpoke", slots: 2)
            #expect(cluster.waitForWorkers(["slowpoke"]))
            let job = try cluster.run(
                "name: late\nworkload: noop\nmax_attempts: 2\ntask_timeout: 300ms\nnoop:\n  tasks: 1\n  sleep_ms: 5000\n")
            #expect(job.state == .failed)
            #expect(job.retries == 1)
            #expect(job.error.contains("gave up after 2 failed attempt(s)"))
            #expect(job.error.contains("lease deadline of 300 ms passed on worker slowpoke"))
        }
    }
}
