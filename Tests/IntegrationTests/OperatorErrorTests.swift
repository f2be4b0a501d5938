import Foundation
import Messaging
import OrreryTestSupport
import Runtime
import Testing
import Wire

/// What an operator sees when something is wrong that is not a crash: an argument that
/// cannot work, a job nobody can run, a worker that comes back after its leases moved on.
extension ClusterTests {
    @Suite("Operator errors")
    struct OperatorErrorTests {
        let directory = NSTemporaryDirectory()

        @Test("a bad --coordinator is an invalid argument (status 2, the flag named), at once; an unknown job id too")
        func badArguments() throws {
            for endpoint in ["foo", "tcp://127.0.0.1:70000", "tcp://127.0.0.1", "http://x:1"] {
                let started = MonotonicClock.milliseconds
                let run = try CommandRun(["status", "--coordinator", endpoint], in: directory, timeoutMilliseconds: 10_000)
                #expect(run.status == 2, "\(endpoint): \(run.stderr)")
                #expect(run.stderr.contains("--coordinator"), "\(run.stderr)")
                #expect(MonotonicClock.milliseconds - started < 4_000, "waited instead of failing at once")
            }
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let cancel = try CommandRun(["cancel", "no-such-job", "--coordinator", cluster.clientEndpoint], in: directory)
            #expect(cancel.status == 2, "\(cancel.stderr)")
            #expect(cancel.stderr.contains("no-such-job"))
        }

        @Test("a spec that is not UTF-8 text is refused naming the line, column and byte")
        func binarySpec() throws {
            let path = "\(directory)/orrery-binary-\(getpid()).yaml"
            try Data("name: ok\nworkload: noop\n  ".utf8 + [0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let run = try CommandRun(["validate", path], in: directory)
            #expect(run.status == 2)
            #expect(run.stderr.contains("\(path):3:3: not UTF-8 text (byte 0xff at offset 26)"), "\(run.stderr)")
        }

        @Test("a job no registered worker can run says so to its watchers instead of showing 0 done forever")
        func unrunnableJob() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            // The one registered worker runs sweeps only.
            var register = Orrery_V1_Register()
            register.workerID = "only-sweep"
            register.capabilities = ["sweep"]
            let raw = try cluster.rawWorker(routingID: "only-sweep#1", register: register)
            _ = try raw.receive(timeoutMilliseconds: 3_000)
            let watcher = try cluster.client()
            let id = try watcher.submit(specYAML: "name: n\nworkload: noop\nnoop:\n  tasks: 3\n", sourceName: "n.yaml", watch: false)
            let explained = eventually(timeoutMilliseconds: 5_000, every: 100) {
                guard let job = try? cluster.status().jobs.first(where: { $0.jobID == id }) else { return false }
                return job.progress.contains("no registered worker runs workload 'noop'")
            }
            #expect(explained)
        }

        @Test("a worker that registers listing tasks that are no longer its own is told to cancel them")
        func staleRunningTasks() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            var register = Orrery_V1_Register()
            register.workerID = "sleeper"
            register.capabilities = ["noop"]
            register.runningTaskIds = ["gone-1/7", "gone-1/8"]
            let raw = try cluster.rawWorker(routingID: "sleeper#1", register: register)
            var cancelled: [String] = []
            _ = eventually(timeoutMilliseconds: 3_000, every: 10) {
                if let frames = try? raw.receive(timeoutMilliseconds: 50), case .cancel(let cancel) = try? EnvelopeCodec.decode(frames[0]) {
                    cancelled = cancel.taskIds
                }
                return !cancelled.isEmpty
            }
            #expect(cancelled == ["gone-1/7", "gone-1/8"])
        }
    }
}
