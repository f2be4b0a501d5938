import Foundation
import Fuzzing
import Glibc
import Messaging
import OrreryTestSupport
import Runtime
import Testing
import Wire

/// Issue 14 with real daemons: short fuzzing passes at each of the three ways in (the
/// coordinator as workers and as clients, a worker from a hostile coordinator, a worker's
/// data plane), each followed by a normal job whose result must equal the same job's on an
/// undisturbed cluster; and the identity rules. `scripts/fuzz` runs the long passes.
extension ClusterTests {
    @Suite("Hostile input")
    struct HostileInputTests {
        static let sweep = "name: after\nworkload: sweep\nsweep:\n  function: rosenbrock\n  dimensions: 3\n  strategy: random\n  points: 60\n  batch: 6\n  seed: 5\n"
        static let dataParallel = "name: dp\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [16]\n  epochs: 1\n  batch_size: 32\n  workers: 2\n  seed: 4\n"

        /// A loopback endpoint on a port that was free a moment ago (asked of the kernel
        /// with a plain socket, which, unlike a ZeroMQ one, is closed when `close` returns).
        static func freeEndpoint(context: ZMQContext) throws -> String {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
            }
            guard bound else { throw TestClusterError("no free loopback port") }
            return "tcp://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        }

        /// A raw worker that has sent one `Register` and nothing else.
        static func registeredRawWorker(_ cluster: TestCluster, routingID: String, workerID: String, capabilities: [String]) throws -> Socket {
            var register = Orrery_V1_Register()
            register.workerID = workerID
            register.capabilities = capabilities
            register.slots = 4
            register.hostname = "evil"
            register.pid = 1
            return try cluster.rawWorker(routingID: routingID, register: register)
        }

        static func memory(_ process: ChildProcess?) -> ProcessMemory? { process.flatMap { ProcessMemory.of(pid: $0.pid) } }

        @Test("coordinator: fuzzed as workers and as clients, it lives, stays small, and then runs a job as before")
        func coordinatorFuzz() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            try cluster.startWorker("honest")
            #expect(cluster.waitForWorkers(["honest"]))
            let before = try cluster.run(Self.sweep)
            #expect(before.state == .succeeded)

            for (index, role) in CoordinatorFuzzer.Role.allCases.enumerated() {
                let fuzzer = try CoordinatorFuzzer(
                    endpoint: cluster.clientEndpoint, role: role, context: cluster.context, seed: UInt64(41 + index), connections: 8)
                let report = fuzzer.run(count: 4_000, deadline: MonotonicClock.milliseconds + 20_000)
                #expect(report.frames > 1_000, "\(role): \(report)")
                #expect(cluster.coordinator?.isRunning == true, "coordinator died under \(role) fuzzing:\n\(cluster.log("coordinator").suffix(2000))")
            }
            let memory = try #require(Self.memory(cluster.coordinator))
            #expect(memory.peakResidentBytes < 200 << 20, "\(memory.description)")

            // Fuzzed jobs may still be running: the honest job must come out as before. The
            // fuzzers' registered "workers" are gone once they miss their heartbeats; on a
            // loaded machine that can take a moment, and until then a lease may go to one.
            let settle = MonotonicClock.milliseconds + 15_000
            while MonotonicClock.milliseconds < settle, try cluster.status().workers.map(\.workerID) != ["honest"] { usleep(100_000) }
            let after = try cluster.run(Self.sweep, timeoutMilliseconds: 120_000)
            #expect(after.state == .succeeded)
            #expect(after.reportJson == before.reportJson)
            let counters = try cluster.status().counters
            #expect(counters.framesMalformed > 0 && counters.logLinesSuppressed > 0)
        }

        @Test("worker: a hostile coordinator's leases and contracts never stop it; it then serves a real one")
        func workerFuzz() throws {
            // The hostile coordinator lives in this process, on loopback: one host.
            let cluster = try TestCluster(onOneHost: true)
            let endpoint = try Self.freeEndpoint(context: cluster.context)
            let output = cluster.directory + "/output"
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            var fake: FakeCoordinator? = try FakeCoordinator(bind: endpoint, context: cluster.context, seed: 9)
            let worker = try cluster.startProcess(
                "victim", executable: OrreryBinary.path,
                arguments: [
                    "worker", "--coordinator", endpoint, "--id", "victim", "--slots", "2", "--output-dir", output,
                    "--heartbeat-interval", "200ms", "--parent-pid", String(getpid()), "--log-level", "info",
                ])
            #expect(fake!.awaitWorker(deadline: MonotonicClock.milliseconds + 15_000))
            let report = fake!.run(count: 5_000, deadline: MonotonicClock.milliseconds + 30_000)
            #expect(report.frames > 1_000, "\(report)")
            #expect(fake!.workerStillAlive(milliseconds: 10_000), "worker log:\n\(cluster.log("victim").suffix(2000))")
            #expect(worker.isRunning)
            // Nothing was written outside the output directory.
            #expect(!FileManager.default.fileExists(atPath: "/etc/orrery-fuzz"))
            let memory = try #require(ProcessMemory.of(pid: worker.pid))
            #expect(memory.peakResidentBytes < 300 << 20, "\(memory.description)")
            // The log stays readable: rate-limited, and never a raw control byte.
            let log = cluster.log("victim")
            #expect(log.split(separator: "\n").count < 2_000)
            #expect(!log.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })

            fake = nil  // frees the endpoint for a real coordinator (libzmq unbinds in the background)
            let started = eventually(timeoutMilliseconds: 10_000, every: 200) { (try? cluster.startCoordinator(endpoint: endpoint)) != nil }
            #expect(started, "coordinator log:\n\(cluster.log("coordinator").suffix(1000))")
            #expect(cluster.waitForWorkers(["victim"], timeoutMilliseconds: 20_000), "worker log:\n\(cluster.log("victim").suffix(2000))")
            let job = try cluster.run(Self.sweep, timeoutMilliseconds: 60_000)
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("victim").suffix(3000))")
        }

        @Test("data plane: junk and frames of rings that do not exist are dropped; the next gang trains as on a fresh cluster")
        func dataPlaneFuzz() throws {
            // The fuzzer sends from this process to loopback data planes: one host.
            let cluster = try TestCluster(onOneHost: true)
            try cluster.startCoordinator()
            let planes = try (0..<2).map { _ in try Self.freeEndpoint(context: cluster.context) }
            try cluster.startWorker("a", extra: ["--data-bind", planes[0], "--no-local-ipc"])
            try cluster.startWorker("b", extra: ["--data-bind", planes[1], "--no-local-ipc"])
            #expect(cluster.waitForWorkers(["a", "b"]))
            let before = try cluster.run(Self.dataParallel, timeoutMilliseconds: 120_000)
            #expect(before.state == .succeeded, "\(before.error)")

            let fuzzer = try DataPlaneFuzzer(endpoint: planes[0], context: cluster.context, seed: 13)
            let report = fuzzer.run(count: 20_000, deadline: MonotonicClock.milliseconds + 30_000)
            #expect(report.frames > 1_000, "\(report)")
            #expect(cluster.workers["a"]?.isRunning == true)
            let memory = try #require(Self.memory(cluster.workers["a"]))
            #expect(memory.peakResidentBytes < 300 << 20, "\(memory.description)")

            let after = try cluster.run(Self.dataParallel, timeoutMilliseconds: 120_000)
            #expect(after.state == .succeeded, "\(after.error)")
            #expect(after.reportJson.contains("\"workers\":2") || after.reportText.contains("2 workers"))
            // Same seed, same gang size: the same model, to the bit.
            let accuracy = { (info: Orrery_V1_JobInfo) in
                (try? JSONSerialization.jsonObject(with: Data(info.reportJson.utf8)) as? [String: Double])?["test_loss"]
            }
            #expect(accuracy(after) != nil && accuracy(after) == accuracy(before))
        }

        @Test("identity: another connection claiming a live worker's id is refused; the live worker keeps its place")
        func duplicateWorkerID() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let live = try cluster.startWorker("w1")
            #expect(cluster.waitForWorkers(["w1"]))
            let impostor = try Self.registeredRawWorker(cluster, routingID: "w1", workerID: "w1", capabilities: ["sweep"])
            let reply = try #require(try impostor.receive(timeoutMilliseconds: 3_000))
            guard case .reject(let reject) = try EnvelopeCodec.decode(reply[0]) else {
                Issue.record("expected REJECT_DUPLICATE_WORKER")
                return
            }
            #expect(reject.code == .rejectDuplicateWorker)
            let status = try cluster.status()
            #expect(status.workers.count == 1)
            #expect(status.workers.first?.pid == UInt32(live.pid))
            #expect(status.counters.registrationsRefused == 1)
            // The live worker still gets the work.
            let job = try cluster.run(Self.sweep)
            #expect(job.state == .succeeded)
        }

        @Test("a registered worker gets no lease until it is heard from again")
        func leasesNeedProofOfLife() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let silent = try Self.registeredRawWorker(cluster, routingID: "silent#1", workerID: "silent", capabilities: ["noop"])
            #expect(cluster.waitForWorkers(["silent"]))
            let client = try cluster.client()
            _ = try client.submit(specYAML: "name: n\nworkload: noop\nnoop:\n  tasks: 8\n", sourceName: "n.yaml", watch: false)
            var leases = 0
            let deadline = MonotonicClock.milliseconds + 600
            while MonotonicClock.milliseconds < deadline, let frames = try silent.receive(timeoutMilliseconds: 100) {
                if case .leases(let batch) = try EnvelopeCodec.decode(frames[0]) { leases += batch.leases.count }
            }
            #expect(leases == 0)
            try silent.send([EnvelopeCodec.encode(.heartbeat(Orrery_V1_Heartbeat()))], wait: true)
            let leased = eventually(timeoutMilliseconds: 3_000, every: 10) {
                guard let frames = try? silent.receive(timeoutMilliseconds: 50), let body = try? EnvelopeCodec.decode(frames[0]) else { return false }
                if case .leases(let batch) = body { return !batch.leases.isEmpty }
                return false
            }
            #expect(leased)
        }
    }
}
