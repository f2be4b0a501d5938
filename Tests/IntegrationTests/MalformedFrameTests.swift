import Foundation
import Messaging
import OrreryTestSupport
import Testing
import Wire

extension ClusterTests {
    @Suite("Malformed frames")
    struct MalformedFrameTests {
        @Test("garbage, truncated, wrong-version, misdirected and unregistered frames are counted and dropped; service goes on")
        func coordinatorSurvivesBadFrames() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let raw = try Socket(context: cluster.context, kind: .dealer, policy: .client)
            try raw.setRoutingID("intruder")
            try raw.connect(cluster.clientEndpoint)

            var generator = SystemRandomNumberGenerator()
            for _ in 0..<20 {
                // Random bytes behind a tag of field 0 (never valid protobuf): pure random
                // bytes now and then decode as an envelope of another protocol version.
                try raw.send([[0x07] + (0..<63).map { _ in UInt8.random(in: 0...255, using: &generator) }], wait: true)
            }
            var register = Orrery_V1_Register()
            register.workerID = "intruder"
            register.capabilities = ["sweep"]
            let whole = EnvelopeCodec.encode(.register(register))
            try raw.send([Array(whole.prefix(whole.count - 3))], wait: true)  // truncated protobuf
            var old = Envelope()
            old.protocolVersion = 0
            old.heartbeat = Orrery_V1_Heartbeat()
            try raw.send([try old.serializedBytes()], wait: true)  // wrong protocol version
            try raw.send([EnvelopeCodec.encode(.heartbeat(Orrery_V1_Heartbeat()))], wait: true)  // not registered
            try raw.send([EnvelopeCodec.encode(.leases(Orrery_V1_LeaseBatch()))], wait: true)  // wrong direction
            try raw.send([[1], [2], [3]], wait: true)  // too many frames

            // The coordinator answers what deserves an answer.
            var rejections: [Orrery_V1_RejectCode] = []
            while let frames = try raw.receive(timeoutMilliseconds: 1_000) {
                if case .reject(let reject) = try EnvelopeCodec.decode(frames[0]) { rejections.append(reject.code) }
                if rejections.count == 2 { break }
            }
            #expect(rejections.contains(.rejectProtocolVersion))
            #expect(rejections.contains(.rejectUnknownWorker))

            // The last two frames are never answered: wait until they are counted (the status
            // request arrives on another socket and may overtake them).
            _ = eventually(timeoutMilliseconds: 5_000) { ((try? cluster.status().counters.framesMalformed) ?? 0) >= 3 }
            let counters = try cluster.status().counters
            #expect(counters.framesWrongVersion == 1)
            #expect(counters.framesUnknownSender == 1)
            #expect(counters.framesMalformed >= 3)  // truncated, wrong direction, three frames
            #expect(counters.framesMalformed + counters.framesWrongVersion + counters.framesUnknownSender >= 6)
            #expect(cluster.coordinator?.isRunning == true)

            try cluster.startWorker("honest")
            #expect(cluster.waitForWorkers(["honest"]))
            let job = try cluster.run("name: after\nworkload: sweep\nsweep:\n  function: sphere\n  points: 25\n  batch: 5\n")
            #expect(job.state == .succeeded)
        }

        @Test("a registration with fields out of bounds or no runnable workload is refused with the reason")
        func badRegistration() throws {
            let cluster = try TestCluster()
            try cluster.startCoordinator()
            let raw = try Socket(context: cluster.context, kind: .dealer, policy: .client)
            try raw.setRoutingID("socket-id")
            try raw.connect(cluster.clientEndpoint)
            var register = Orrery_V1_Register()
            register.workerID = "claimed-id"
            register.capabilities = ["sweep"]
            register.slots = 4_000_000_000
            try raw.send([EnvelopeCodec.encode(.register(register))], wait: true)
            let first = try #require(try raw.receive(timeoutMilliseconds: 3_000))
            guard case .reject(let reject) = try EnvelopeCodec.decode(first[0]) else {
                Issue.record("expected a rejection")
                return
            }
            #expect(reject.code == .rejectInvalidRegistration)
            #expect(reject.reason.contains("slots"))

            register.slots = 1
            register.workerID = "socket-id"
            register.capabilities = ["teleport"]
            try raw.send([EnvelopeCodec.encode(.register(register))], wait: true)
            let second = try #require(try raw.receive(timeoutMilliseconds: 3_000))
            guard case .reject(let again) = try EnvelopeCodec.decode(second[0]) else {
                Issue.record("expected a rejection")
                return
            }
            #expect(again.reason.contains("teleport"))
            #expect(try cluster.status().workers.isEmpty)
        }
    }
}
