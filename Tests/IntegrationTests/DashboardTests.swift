import Foundation
import OrreryTestSupport
import Runtime
import Testing
import Wire

/// The coordinator's HTTP side with real daemons: the JSON API over finished and restarted
/// jobs, bad requests, the access token, Prometheus exposition from the coordinator and a
/// worker, TensorBoard files a client writes, and the dashboard driven in headless Chromium.
extension ClusterTests {
    @Suite("Dashboard, HTTP API, metrics and TensorBoard")
    struct DashboardTests {
        static let epochs = 6
        static let train = """
            name: digits-curves
            workload: train
            train:
              dataset: digits
              hidden: [32]
              epochs: \(epochs)
              batch_size: 32
              seed: 5
            """
        static let sweep = """
            name: branin-small
            workload: sweep
            sweep:
              function: branin
              strategy: grid
              points: 100
              rounds: 1
              batch: 20
              top: 5
              seed: 7
            """

        static var python: String {
            ProcessInfo.processInfo.environment["ORRERY_TEST_PYTHON"] ?? PackageRoot.url.appendingPathComponent(".venv-test/bin/python").path
        }

        static func json(_ answer: HTTPGet.Answer) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any], "not a JSON object: \(answer.body.prefix(300))")
        }

        static func get(_ url: String, _ path: String, headers: [String: String] = [:]) throws -> HTTPGet.Answer {
            try HTTPGet.get(url + path, headers: headers)
        }

        /// Runs a program and returns its standard output; a non-zero exit is a test failure
        /// naming its standard error.
        static func output(of executable: String, _ arguments: [String], timeoutMilliseconds: Int = 120_000) throws -> (status: Int32, out: String, err: String) {
            let out = "\(NSTemporaryDirectory())/orrery-probe-\(UInt32.random(in: 0...UInt32.max))"
            defer {
                try? FileManager.default.removeItem(atPath: out)
                try? FileManager.default.removeItem(atPath: out + ".err")
            }
            let process = try ChildProcess(executable: executable, arguments: arguments, standardOutput: .file(out), standardError: .file(out + ".err"))
            let status = process.wait(timeoutMilliseconds: timeoutMilliseconds) ?? process.terminate()
            return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
        }

        @Test("the JSON API shows workers, jobs, curves, leaderboards and report files, and answers bad requests with 400 and 404")
        func api() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0"])
            let url = try #require(cluster.httpURL, "the coordinator wrote no http:// line to its ready file")
            try cluster.startWorker("dash-w1")
            #expect(cluster.waitForWorkers(["dash-w1"]))

            let trained = try cluster.run(Self.train)
            #expect(trained.state == .succeeded, "\(trained.error)")
            let searched = try cluster.run(Self.sweep)
            #expect(searched.state == .succeeded, "\(searched.error)")

            let cluster0 = try Self.json(try Self.get(url, "/api/cluster"))
            let workers = try #require(cluster0["workers"] as? [[String: Any]])
            #expect(workers.map { $0["worker_id"] as? String } == ["dash-w1"])
            #expect((workers.first?["data_endpoint"] as? String)?.hasPrefix("tcp://") == true)
            let jobs = try #require(try Self.json(try Self.get(url, "/api/jobs"))["jobs"] as? [[String: Any]])
            #expect(Set(jobs.compactMap { $0["job_id"] as? String }) == [trained.jobID, searched.jobID])
            #expect(jobs.allSatisfy { $0["state"] as? String == "JOB_STATE_SUCCEEDED" })

            // Curves: every epoch of every tag, in order, the last accuracy the report's.
            let curves = try Self.json(try Self.get(url, "/api/jobs/\(trained.jobID)/curves"))
            let points = try #require(curves["points"] as? [[String: Any]])
            let accuracy = points.filter { $0["tag"] as? String == "test/accuracy" }
            #expect(accuracy.map { $0["step"] as? Int } == (1...Self.epochs).map { $0 })
            let report = try #require(try JSONSerialization.jsonObject(with: Data(trained.reportJson.utf8)) as? [String: Double])
            #expect(accuracy.last?["value"] as? Double == report["test_accuracy"])
            #expect(Set(curves["tags"] as? [String] ?? []) == ["train/loss", "test/loss", "test/accuracy", "learning_rate", "samples_per_second"])
            let last = try #require(curves["last_sequence"] as? Int)
            #expect(points.count == 5 * Self.epochs && last == points.count)
            let later = try #require(try Self.json(try Self.get(url, "/api/jobs/\(trained.jobID)/curves?after=\(last - 3)"))["points"] as? [[String: Any]])
            #expect(later.count == 3)

            // The sweep's leaderboard is its report's best, and its file downloads.
            let board = try Self.json(try Self.get(url, "/api/jobs/\(searched.jobID)/leaderboard"))
            let rows = try #require(board["rows"] as? [[String: Any]])
            let best = try #require((try JSONSerialization.jsonObject(with: Data(searched.reportJson.utf8)) as? [String: Any])?["best"] as? [[String: Any]])
            #expect(rows.first?["value"] as? Double == best.first?["value"] as? Double)
            #expect(board["higherIsBetter"] as? Bool == false)
            let svg = try Self.get(url, "/api/jobs/\(searched.jobID)/files/leaderboard.svg")
            #expect(svg.status == 200 && svg.body.hasPrefix("<svg") && svg.headers["content-disposition"]?.contains("attachment") == true)
            let csv = try Self.get(url, "/api/jobs/\(trained.jobID)/files/curves.csv")
            #expect(csv.status == 200 && csv.body.split(separator: "\n").count == 1 + 5 * Self.epochs)
            let page = try Self.get(url, "/")
            #expect(page.status == 200 && page.body.contains("static/dashboard.js"))

            // Bad requests name what was wrong; nothing crashes.
            for (path, status) in [
                ("/no-such-page", 404), ("/api/jobs/no-such-job", 404), ("/api/jobs/bad%20id%3B", 400), ("/api/jobs?limit=0", 400),
                ("/api/jobs?limit=ten", 400), ("/api/jobs/\(trained.jobID)/curves?after=-1", 400), ("/api/jobs/\(trained.jobID)/files/nope.txt", 404),
                ("/api/jobs/\(trained.jobID)/leaderboard", 404), ("/api/jobs/\(searched.jobID)/pareto", 404),
            ] {
                let answer = try Self.get(url, path)
                #expect(answer.status == status, "\(path): \(answer.status) \(answer.body.prefix(200))")
                if status == 400 { #expect(answer.body.contains("\"error\""), "\(path): \(answer.body)") }
            }
            // Bytes that are not HTTP, a request line of 100 KB, a NUL in a path: refused, and
            // the server goes on answering.
            let port = try #require(URLComponents(string: url)?.port)
            for junk in [Array("\u{0}\u{1}GARBAGE\r\n\r\n".utf8), Array("GET /\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\n\r\n".utf8),
                Array("GET /api/jobs/%00 HTTP/1.1\r\nHost: x\r\n\r\n".utf8), [UInt8](repeating: 0xFF, count: 10_000)] {
                let answer = try HTTPGet.raw(junk, host: "127.0.0.1", port: port)
                #expect(!answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
            }
            #expect(try Self.get(url, "/api/cluster").status == 200)
            #expect(cluster.coordinator?.isRunning == true)

            // A coordinator killed and started again on its ledger still shows ended jobs'
            // curves and leaderboards (they are read from the ledger, not memory).
            cluster.coordinator?.signal(SIGKILL)
            _ = cluster.coordinator?.wait(timeoutMilliseconds: 5_000)
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0"])
            let restarted = try #require(cluster.httpURL)
            let again = try #require(try Self.json(try Self.get(restarted, "/api/jobs/\(trained.jobID)/curves"))["points"] as? [[String: Any]])
            #expect(again.count == points.count)
            #expect(again.last?["value"] as? Double == points.last?["value"] as? Double)
            let boardAgain = try #require(try Self.json(try Self.get(restarted, "/api/jobs/\(searched.jobID)/leaderboard"))["rows"] as? [[String: Any]])
            #expect(boardAgain.first?["value"] as? Double == rows.first?["value"] as? Double)
        }

        @Test("/metrics on the coordinator and workers is valid Prometheus text: tasks by workload, round trips, rejections, all-reduce by path")
        func metrics() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0"])
            let url = try #require(cluster.httpURL)
            try cluster.startWorker("metrics-w1", extra: ["--metrics", "127.0.0.1:0"])
            #expect(cluster.waitForWorkers(["metrics-w1"]))
            let job = try cluster.run(Self.sweep)
            #expect(job.state == .succeeded)
            // A data-parallel job on two workers of one host: all-reduce through shared memory.
            try cluster.startWorker("metrics-w2", extra: ["--metrics", "127.0.0.1:0"])
            #expect(cluster.waitForWorkers(["metrics-w1", "metrics-w2"]))
            let parallel = try cluster.run("name: dp\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [16]\n  epochs: 1\n  batch_size: 32\n  workers: 2\n  seed: 4\n")
            #expect(parallel.state == .succeeded, "\(parallel.error)")
            // A spec the coordinator refuses is counted by reason.
            let client = try cluster.client()
            #expect(throws: (any Error).self) { try client.submit(specYAML: "name: x\nworkload: nope\n", sourceName: "bad.yaml", watch: false) }

            let coordinator = try PrometheusText(try Self.get(url, "/metrics"))
            #expect(coordinator.value("orrery_coordinator_task_events_total", ["workload": "sweep", "event": "completed"]) == Double(job.tasksDone))
            #expect(coordinator.value("orrery_coordinator_task_events_total", ["workload": "sweep", "event": "leased"]) == Double(job.tasksDone))
            #expect(coordinator.value("orrery_coordinator_lease_round_trip_seconds_count", ["workload": "sweep"]) ?? 0 >= 1)
            #expect(coordinator.value("orrery_coordinator_rejects_total", ["reason": "invalid_spec"]) == 1)
            #expect(coordinator.value("orrery_coordinator_frames_received_total", [:]) ?? 0 > 0)
            #expect(coordinator.types["orrery_coordinator_lease_round_trip_seconds"] == "histogram")
            // Gauges are set at most once a second.
            #expect(eventually(timeoutMilliseconds: 5_000) {
                (try? PrometheusText(try Self.get(url, "/metrics")).value("orrery_coordinator_workers", [:])) == 2
            })

            _ = eventually(timeoutMilliseconds: 10_000) { Self.metricsPort(cluster.log("metrics-w1")) != nil }
            let port = try #require(Self.metricsPort(cluster.log("metrics-w1")), "the worker logged no HTTP address")
            let worker = try PrometheusText(try HTTPGet.get("http://127.0.0.1:\(port)/metrics"))
            #expect(worker.value("orrery_worker_tasks_total", ["workload": "sweep", "outcome": "succeeded"]) == Double(job.tasksDone))
            #expect(worker.value("orrery_worker_task_duration_seconds_count", ["workload": "sweep", "outcome": "succeeded"]) == Double(job.tasksDone))
            #expect(worker.value("orrery_worker_tasks_total", ["workload": "train", "outcome": "succeeded"]) == 1)
            #expect(worker.value("orrery_allreduce_bytes_total", ["path": "shared_memory"]) ?? 0 > 0)
            #expect(worker.value("orrery_allreduce_duration_seconds_count", ["path": "shared_memory"]) ?? 0 > 0)
            #expect(worker.value("orrery_worker_tasks_running", [:]) == 0)
            #expect(try HTTPGet.get("http://127.0.0.1:\(port)/").status == 404)
        }

        static func metricsPort(_ log: String) -> Int? {
            guard let line = log.split(separator: "\n").first(where: { $0.contains("HTTP listening") }),
                let range = line.range(of: #"address=[0-9.]+:([0-9]+)"#, options: .regularExpression)
            else { return nil }
            return Int(line[range].split(separator: ":").last ?? "")
        }

        @Test("with --http-token-file every request needs the token; a short token file and a non-loopback address without one are named")
        func accessToken() throws {
            let directory = NSTemporaryDirectory() + "orrery-token-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let token = "0123456789abcdef0123456789abcdef"
            try (token + "\n").write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
            try "short".write(toFile: "\(directory)/short", atomically: true, encoding: .utf8)

            let refused = try CommandRun(["coordinator", "--ephemeral", "--http", "127.0.0.1:0", "--http-token-file", "\(directory)/short"], in: directory, timeoutMilliseconds: 10_000)
            #expect(refused.status == 2 && refused.stderr.contains("\(directory)/short"), "\(refused.stderr)")
            let badAddress = try CommandRun(["coordinator", "--ephemeral", "--http", "localhost"], in: directory, timeoutMilliseconds: 10_000)
            #expect(badAddress.status == 2 && badAddress.stderr.contains("HOST:PORT"), "\(badAddress.stderr)")

            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0", "--http-token-file", "\(directory)/token"])
            let url = try #require(cluster.httpURL)
            #expect(try Self.get(url, "/api/cluster").status == 401)
            #expect(try Self.get(url, "/metrics").status == 401)
            #expect(try Self.get(url, "/api/cluster", headers: ["Authorization": "Bearer wrong-wrong-wrong-wrong"]).status == 401)
            #expect(try Self.get(url, "/api/cluster", headers: ["Authorization": "Bearer \(token)"]).status == 200)
            #expect(try Self.get(url, "/api/cluster?token=\(token)").status == 200)

            let open = try TestCluster()
            try open.startCoordinator(extra: ["--http", "0.0.0.0:0"])
            #expect(open.log("coordinator").contains("without an access token"), "\(open.log("coordinator").suffix(2000))")
        }

        @Test("orrery submit --report-dir writes TensorBoard files that tensorboard's EventAccumulator reads back, with the spec as hyperparameters")
        func tensorBoard() throws {
            try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no Python with tensorboard at \(Self.python); run scripts/test")
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0"])
            try cluster.startWorker("tb-w1")
            #expect(cluster.waitForWorkers(["tb-w1"]))
            let directory = NSTemporaryDirectory() + "orrery-tb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.train.write(toFile: "\(directory)/train.yaml", atomically: true, encoding: .utf8)
            let submit = try CommandRun(
                ["submit", "\(directory)/train.yaml", "--coordinator", cluster.clientEndpoint, "--report-dir", "\(directory)/report", "--json"], in: directory)
            #expect(submit.status == 0, "\(submit.stderr)")
            for file in ["report.json", "curves.svg", "curves.csv"] {
                #expect(FileManager.default.fileExists(atPath: "\(directory)/report/\(file)"), "\(file) missing")
            }

            let read = try Self.output(of: Self.python, [PackageRoot.url.appendingPathComponent("scripts/read-tensorboard.py").path, "\(directory)/report/tensorboard"])
            #expect(read.status == 0, "\(read.err)")
            let runs = try #require(try JSONSerialization.jsonObject(with: Data(read.out.utf8)) as? [String: [String: Any]])
            let run = try #require(runs["train"], "runs: \(runs.keys)")
            let scalars = try #require(run["scalars"] as? [String: [[Double]]])
            let accuracy = try #require(scalars["test/accuracy"])
            #expect(accuracy.map { Int($0[0]) } == Array(1...Self.epochs))
            // What the API holds for the same job, to float32's precision.
            let url = try #require(cluster.httpURL)
            let id = try #require((try Self.json(try Self.get(url, "/api/jobs"))["jobs"] as? [[String: Any]])?.first?["job_id"] as? String)
            let points = try #require(try Self.json(try Self.get(url, "/api/jobs/\(id)/curves"))["points"] as? [[String: Any]])
            let api = points.filter { $0["tag"] as? String == "test/accuracy" }.compactMap { $0["value"] as? Double }
            #expect(api.count == accuracy.count)
            for (mine, theirs) in zip(api, accuracy.map { $0[1] }) { #expect(abs(mine - theirs) <= 1e-6 * max(1, abs(mine))) }
            let hparams = try #require(run["hparams"] as? [String: Any])
            #expect(hparams["train.epochs"] as? Double == Double(Self.epochs))
            #expect(hparams["train.dataset"] as? String == "digits")
            #expect(run["status"] as? String == "STATUS_SUCCESS")
        }

        @Test("headless Chromium: the dashboard shows a running job finish without a reload, a job's curves point by point and a leaderboard's best")
        func browser() throws {
            try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no Python with Playwright at \(Self.python); run scripts/test")
            let chromium = ProcessInfo.processInfo.environment["ORRERY_CHROMIUM"] ?? "/usr/bin/chromium"
            try #require(FileManager.default.isExecutableFile(atPath: chromium), "no Chromium at \(chromium); scripts/install-deps installs Debian's")
            let cluster = try TestCluster()
            try cluster.startCoordinator(extra: ["--http", "127.0.0.1:0"])
            let url = try #require(cluster.httpURL)
            try cluster.startWorker("browser-w1")
            try cluster.startWorker("browser-w2")
            #expect(cluster.waitForWorkers(["browser-w1", "browser-w2"]))
            let trained = try cluster.run(Self.train)
            let searched = try cluster.run(Self.sweep)
            #expect(trained.state == .succeeded && searched.state == .succeeded)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(trained.reportJson.utf8)) as? [String: Double])
            let best = try #require((try JSONSerialization.jsonObject(with: Data(searched.reportJson.utf8)) as? [String: Any])?["best"] as? [[String: Any]])
            // A job still running when the page opens: 8 tasks of 1.5 s on 2 workers.
            let live = try cluster.client().submit(
                specYAML: "name: live\nworkload: noop\nnoop:\n  tasks: 8\n  sleep_ms: 1500\n", sourceName: "live.yaml", watch: false)

            let output = PackageRoot.url.appendingPathComponent(".build/test-output/dashboard-\(getpid())").path
            let checks: [String: Any] = [
                "url": url, "workers": 2, "live_job": live, "train_job": trained.jobID, "epochs": Self.epochs,
                "last_accuracy": try #require(report["test_accuracy"]), "search_job": searched.jobID,
                "best_value": try #require(best.first?["value"] as? Double),
            ]
            let checksFile = NSTemporaryDirectory() + "orrery-dashboard-checks-\(getpid()).json"
            try JSONSerialization.data(withJSONObject: checks).write(to: URL(fileURLWithPath: checksFile))
            defer { try? FileManager.default.removeItem(atPath: checksFile) }
            let run = try Self.output(
                of: Self.python, [PackageRoot.url.appendingPathComponent("scripts/check-dashboard.py").path, checksFile, output], timeoutMilliseconds: 180_000)
            #expect(run.status == 0, "browser check failed (screenshot and HTML in \(output)): \(run.out) \(run.err.suffix(3000))")
            #expect(run.out.contains("\"ok\": true"))
        }
    }
}

/// Prometheus's text exposition format (0.0.4), parsed strictly enough that a malformed
/// line fails the test: `# TYPE name kind` lines, and samples `name{label="value",…} number`.
struct PrometheusText {
    private(set) var samples: [String: Double] = [:]
    private(set) var types: [String: String] = [:]

    init(_ answer: HTTPGet.Answer) throws {
        guard answer.status == 200 else { throw TestClusterError("/metrics answered \(answer.status): \(answer.body.prefix(200))") }
        guard answer.headers["content-type"]?.hasPrefix("text/plain") == true else {
            throw TestClusterError("/metrics content type \(answer.headers["content-type"] ?? "none")")
        }
        for line in answer.body.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                    throw TestClusterError("bad TYPE line: \(line)")
                }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = line.wholeMatch(of: /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)/), let value = Double(match.3) ?? Self.special(match.3) else {
                throw TestClusterError("not a Prometheus sample line: \(line)")
            }
            let labels = try match.2.map { try Self.labels(String($0.dropFirst().dropLast())) } ?? [:]
            samples[Self.key(String(match.1), labels)] = value
        }
    }

    func value(_ name: String, _ labels: [String: String]) -> Double? { samples[Self.key(name, labels)] }

    private static func key(_ name: String, _ labels: [String: String]) -> String {
        name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
    }

    private static func labels(_ text: String) throws -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",") where !pair.isEmpty {
            guard let match = pair.wholeMatch(of: /([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/) else { throw TestClusterError("bad label \(pair)") }
            labels[String(match.1)] = String(match.2)
        }
        return labels
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: nil
        }
    }
}
