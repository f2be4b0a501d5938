import Client
import Foundation
import Glibc
import Messaging
import OrreryTestSupport
import Runtime
import Testing
import Wire

extension ClusterTests {
    @Suite("CURVE on both planes, with real processes")
    struct CurveClusterTests {
        /// A gang job whose name and settings are strings a capture can look for.
        static let canary = "canary-job-q7z3x"
        static let spec = """
            name: \(canary)
            workload: train
            train:
              dataset: digits
              hidden: [48]
              batch_size: 32
              epochs: 2
              seed: 3
              workers: {min: 2, max: 2}
            """

        @Test("a gang job runs to the end with CURVE on; a capture of the control stream holds none of its spec strings, and without CURVE it does",
              arguments: [true, false])
        func captureHoldsNoSpecStrings(curve: Bool) throws {
            // On one host: the relay, in this process, reaches the coordinator over loopback.
            let cluster = try TestCluster(heartbeat: "200ms", curveNames: curve ? ["worker-alpha", "worker-beta"] : nil, onOneHost: true)
            let coordinator = try cluster.startCoordinator(extra: ["--gang-gather", "300ms"])
            let port = try #require(UInt16(coordinator.split(separator: ":").last ?? ""))
            let relay = try TCPRelay(targetPort: port)
            defer { relay.stop() }
            // Workers and the client reach the coordinator only through the relay.
            cluster.endpoint = relay.endpoint
            cluster.clientEndpoint = relay.endpoint
            try cluster.startWorker("worker-alpha")
            try cluster.startWorker("worker-beta")
            #expect(cluster.waitForWorkers(["worker-alpha", "worker-beta"]), "\(cluster.log("coordinator").suffix(2000))")
            let job = try cluster.run(Self.spec, timeoutMilliseconds: 120_000)
            #expect(job.state == .succeeded, "\(job.error)\n\(cluster.log("worker-alpha").suffix(2000))")
            #expect(job.reportJson.contains("test_accuracy"))

            // Strings of 6 bytes or more: a shorter one turns up in kilobytes of ciphertext by chance.
            let strings = [Self.canary, "digits", "dataset", "test_accuracy", "worker-alpha"]
            let seen = strings.filter(relay.captured)
            #expect(relay.capture.count > 2_000, "the capture holds the job's traffic (\(relay.capture.count) bytes)")
            if curve {
                #expect(seen.isEmpty, "readable in a CURVE capture: \(seen)")
                #expect(try cluster.status().counters.curveAdmitted >= 3)
            } else {
                #expect(seen == strings, "a plaintext capture shows the spec and report (so this test can fail): saw \(seen)")
            }
        }

        @Test("a worker with an unlisted key is refused, counted and logged by fingerprint; listed and SIGHUP'ed, it joins")
        func unlistedWorkerRefusedUntilListed() throws {
            let cluster = try TestCluster(heartbeat: "200ms", curveNames: ["w0"])
            try cluster.startCoordinator()
            let mallory = try cluster.makeKey("mallory")
            try cluster.startWorker("w0")
            try cluster.startWorker("mallory", extra: cluster.curveFlags("mallory", allow: "workers.allow"))
            #expect(cluster.waitForWorkers(["w0"]))
            let refused = eventually(timeoutMilliseconds: 10_000) { ((try? cluster.status().counters.curveRefused) ?? 0) >= 1 }
            #expect(refused)
            #expect(try !cluster.status().workers.map(\.workerID).contains("mallory"))
            #expect(cluster.log("coordinator").contains(mallory.publicKey.fingerprint), "the refusal names the key's fingerprint")
            #expect(eventually(timeoutMilliseconds: 10_000) { cluster.log("mallory").contains("refused this worker's CURVE key") },
                    "the worker says why: \(cluster.log("mallory").suffix(1500))")

            try cluster.writeAllowList("coordinator.allow", names: ["w0", "client", "mallory"])
            cluster.coordinator?.signal(SIGHUP)
            #expect(cluster.waitForWorkers(["mallory"], timeoutMilliseconds: 20_000), "admitted after the reload: \(cluster.log("coordinator").suffix(2000))")
            #expect(cluster.log("coordinator").contains("allow-list re-read"))
            #expect(cluster.coordinator?.isRunning == true, "SIGHUP re-reads; it does not stop the coordinator")
        }

        @Test("an unlisted client exits 3 saying its key was refused; plaintext clients and workers get nothing from a CURVE coordinator")
        func unlistedAndPlaintextPeersGetNothing() throws {
            let cluster = try TestCluster(heartbeat: "200ms", curveNames: ["w0"])
            try cluster.startCoordinator()
            let endpoint = cluster.clientEndpoint
            try cluster.makeKey("eve")
            let keys = cluster.keyDirectory
            let refusedClient = try CommandRun(
                ["status", "--coordinator", endpoint, "--curve-key", "\(keys)/eve.key", "--curve-coordinator-key", "\(keys)/coordinator.pub"],
                in: cluster.directory)
            #expect(refusedClient.status == 3)
            #expect(refusedClient.stderr.contains("refused this client's CURVE key"), "\(refusedClient.stderr)")

            let plaintextClient = try CommandRun(["status", "--coordinator", endpoint], in: cluster.directory)
            #expect(plaintextClient.status == 3)
            #expect(plaintextClient.stderr.contains("no answer"), "\(plaintextClient.stderr)")

            var register = Orrery_V1_Register()
            register.workerID = "plain"
            register.capabilities = ["noop"]
            register.slots = 1
            let plain = try cluster.rawWorker(routingID: "plain", register: register)
            defer { plain.close() }
            #expect(try plain.receive(timeoutMilliseconds: 2_000) == nil, "a plaintext peer is answered nothing")
            let status = try cluster.status()
            #expect(!status.workers.map(\.workerID).contains("plain"))
            #expect(status.counters.framesReceived <= 3, "no plaintext frame reached the coordinator's loop: \(status.counters.framesReceived)")
        }

        @Test("keygen writes 0600 secrets and refuses to overwrite; daemons refuse a key file open to others, naming it")
        func keygenAndKeyFileChecks() throws {
            let cluster = try TestCluster(heartbeat: "200ms")
            let directory = cluster.directory
            let made = try CommandRun(["keygen", "node", "--directory", directory], in: directory)
            #expect(made.status == 0, "\(made.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/node.key")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let pair = try CurveKeyFile.readKeyPair(path: "\(directory)/node.key")
            #expect(made.stdout.contains(pair.publicKey.z85))
            #expect(try CommandRun(["keygen", "node", "--directory", directory], in: directory).status == 2)

            chmod("\(directory)/node.key", 0o644)
            let worker = try CommandRun(
                ["worker", "--curve-key", "\(directory)/node.key", "--curve-coordinator-key", "\(directory)/node.pub", "--data-bind", "none"],
                in: directory, timeoutMilliseconds: 20_000)
            #expect(worker.status == 2)
            #expect(worker.stderr.contains("\(directory)/node.key") && worker.stderr.contains("chmod 600"), "\(worker.stderr)")
            let coordinator = try CommandRun(["coordinator", "--ephemeral", "--curve-key", "\(directory)/node.key"], in: directory, timeoutMilliseconds: 20_000)
            #expect(coordinator.status == 2)
            chmod("\(directory)/node.key", 0o600)
            let noAllow = try CommandRun(["coordinator", "--ephemeral", "--curve-key", "\(directory)/node.key"], in: directory, timeoutMilliseconds: 20_000)
            #expect(noAllow.status == 2)
            #expect(noAllow.stderr.contains("--curve-allow"), "\(noAllow.stderr)")
        }
    }
}
