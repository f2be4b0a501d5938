import Client
import Foundation
import NN
import OrreryTestSupport
import Runtime
import Tensor
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
            let submit = try CommandRun(["submit", spec, "--coordinator", cluster.clientEndpoint], in: directory)
            #expect(submit.status == 0, "\(submit.stderr)")
            #expect(submit.stdout.contains("(cli, sweep): succeeded"))
            #expect(submit.stdout.contains("sweep ackley"))
            let status = try CommandRun(["status", "--coordinator", cluster.clientEndpoint], in: directory)
            #expect(status.status == 0)
            #expect(status.stdout.contains("cli-worker"))
            #expect(status.stdout.contains("succeeded"))
            let nobody = try CommandRun(["status", "--coordinator", "tcp://127.0.0.1:9"], in: directory)
            #expect(nobody.status == 3)
            #expect(nobody.stderr.contains("no answer from coordinator at tcp://127.0.0.1:9"))
        }

        @Test("quantize writes an int8 file a quarter the size that loads back; bad input is status 2")
        func quantize() throws {
            var generator = SplitMix64(seed: 5)
            let model = MLP.make([300, 100, 10], using: &generator)
            let input = "\(directory)/orrery-model-\(UInt32.random(in: 0...UInt32.max)).safetensors", output = input + ".int8"
            defer { for path in [input, output] { try? FileManager.default.removeItem(atPath: path) } }
            try Safetensors.save(model.namedParameters(), to: input)
            let run = try CommandRun(["quantize", input, output], in: directory)
            #expect(run.status == 0, "stderr:\n\(run.stderr)")
            #expect(run.stdout.contains("2 of 4 tensors in int8"), "\(run.stdout)")
            let data = try Data(contentsOf: URL(fileURLWithPath: output))
            let loaded = MLP.make([300, 100, 10], using: &generator)
            try Int8Checkpoint.load(data, source: output, into: loaded)
            try model.quantizeToInt8()
            try loaded.quantizeToInt8()
            let x = Tensor.uniform([3, 300], low: -1, high: 1, using: &generator)
            #expect(try model(x).scalars == loaded(x).scalars)
            // An int8 file is not a float model; a missing file is named.
            #expect(try CommandRun(["quantize", output, output + ".again"], in: directory).status == 2)
            let missing = try CommandRun(["quantize", input + ".missing", output], in: directory)
            #expect(missing.status == 2 && missing.stderr.contains(".missing"))
        }

        @Test("explain prints every token's attribution as JSON, the prompt's marked, adding up; bad arguments are status 2")
        func explain() throws {
            let run = try CommandRun(
                ["explain", "--model", "minilm", "--template", "News: {text}", "--labels", "sport,business,politics", "--json",
                 "the team won the cup final"], in: directory)
            #expect(run.status == 0, "stderr:\n\(run.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(json["explained"] as? String == "sport")
            let tokens = try #require(json["tokens"] as? [[String: Any]])
            #expect(tokens.compactMap { $0["text"] as? String } == ["[CLS]", "news", ":", "the", "team", "won", "the", "cup", "final", "[SEP]"])
            #expect(tokens.filter { $0["prompt"] as? Bool == true }.count == 4)
            #expect((json["completenessGap"] as? Double ?? 1) < 0.01)
            for bad in [["--labels", "sport"], ["--labels", "a,b", "--template", "no slot"], ["--labels", "a,b", "--explain", "c"]] {
                #expect(try CommandRun(["explain", "some text"] + bad, in: directory).status == 2, "\(bad)")
            }
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
