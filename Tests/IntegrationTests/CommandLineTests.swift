import Client
import Foundation
import OrreryTestSupport
import Runtime
import Testing
import Wire

/// Runs the `orrery` binary and captures its output.
struct CommandRun {
    let status: Int32
    let stdout: String
    let stderr: String

    init(_ arguments: [String], in directory: String, timeoutMilliseconds: Int = 120_000) throws {
        let out = "\(directory)/stdout-\(UInt32.random(in: 0...UInt32.max))"
        let err = out + ".err"
        let process = try ChildProcess(
            executable: OrreryBinary.path, arguments: arguments, standardOutput: .file(out), standardError: .file(err))
        status = process.wait(timeoutMilliseconds: timeoutMilliseconds) ?? process.terminate()
        stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
    }
}

extension ClusterTests {
    @Suite("The orrery command")
    struct CommandLineTests {
        let directory = NSTemporaryDirectory()

        func writeSpec(_ text: String) throws -> String {
            let path = "\(directory)/orrery-spec-\(UInt32.random(in: 0...UInt32.max)).yaml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test("launch runs a sweep on a local multi-process cluster and prints the ranked result as JSON")
        func launchSweep() throws {
            let spec = PackageRoot.url.appendingPathComponent("jobs/branin-sweep.yaml").path
            let run = try CommandRun(["launch", "--workers", "2", "--json", spec], in: directory)
            #expect(run.status == 0, "stderr:\n\(run.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let job = try #require(json["job"] as? [String: Any])
            let report = try #require(json["report"] as? [String: Any])
            #expect(job["state"] as? String == "JOB_STATE_SUCCEEDED")
            #expect(report["evaluations"] as? Int == 1200)
            #expect((report["gap"] as? Double ?? 1) < 1e-3)
        }

        @Test("an invalid spec is refused before anything starts: status 2, file, line and field named")
        func badSpec() throws {
            let path = try writeSpec("name: bad\nworkload: sweep\nsweep:\n  function: branin\n  points: lots\n")
            for command in [["launch", "--workers", "2", path], ["submit", path, "--coordinator", "tcp://127.0.0.1:9"], ["validate", path]] {
                let run = try CommandRun(command, in: directory)
                #expect(run.status == 2, "\(command): \(run.stderr)")
                #expect(run.stderr.contains("\(path):5:11: sweep.points: expected an integer, got 'lots'"), "\(run.stderr)")
                #expect(!run.stderr.contains("daemon logs"))
            }
            let missing = try CommandRun(["validate", "/nonexistent/job.yaml"], in: directory)
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("/nonexistent/job.yaml"))
        }

        @Test("the coordinator refuses an invalid spec sent by any client, naming the line")
        func coordinatorValidates() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let error = #expect(throws: ClientError.self) {
                _ = try cluster.client().submit(
                    specYAML: "name: x\nworkload: noop\nnoop:\n  taskz: 3\n", sourceName: "remote.yaml", watch: false)
            }
            #expect(error?.kind == .rejected(.rejectInvalidSpec))
            #expect(error?.message == "remote.yaml:4:3: noop.taskz: unknown field (did you mean 'tasks'?)")
        }

        @Test("submit and status talk to a running cluster; an unreachable coordinator is a clear error")
        func submitAndStatus() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("cli-worker")
            #expect(cluster.waitForWorkers(["cli-worker"]))
            let spec = try writeSpec("name: cli\nworkload: sweep\nsweep:\n  function: ackley\n  strategy: random\n  points: 50\n  batch: 10\n")
            let submit = try CommandRun(["submit", spec, "--coordinator", cluster.endpoint], in: directory)
            #expect(submit.status == 0, "\(submit.stderr)")
            #expect(submit.stdout.contains("(cli, sweep): succeeded"))
            #expect(submit.stdout.contains("sweep ackley"))
            let status = try CommandRun(["status", "--coordinator", cluster.endpoint], in: directory)
            #expect(status.status == 0)
            #expect(status.stdout.contains("cli-worker"))
            #expect(status.stdout.contains("succeeded"))
            let nobody = try CommandRun(["status", "--coordinator", "tcp://127.0.0.1:9"], in: directory)
            #expect(nobody.status == 3)
            #expect(nobody.stderr.contains("no answer from coordinator at tcp://127.0.0.1:9"))
        }

        @Test("--help explains every command")
        func help() throws {
            let root = try CommandRun(["--help"], in: directory)
            for command in ["launch", "coordinator", "worker", "submit", "status", "cancel", "validate", "bench"] {
                #expect(root.stdout.contains(command))
            }
            #expect(root.stdout.contains("Exit status"))
            let launch = try CommandRun(["launch", "--help"], in: directory)
            #expect(launch.stdout.contains("--workers"))
            #expect(!launch.stdout.contains("--parent-pid"))
        }
    }
}
