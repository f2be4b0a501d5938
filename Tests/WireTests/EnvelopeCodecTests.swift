import Foundation
import Testing
import Wire

@Suite("Envelope codec")
struct EnvelopeCodecTests {
    @Test("a message survives encode and decode")
    func roundTrip() throws {
        var register = Orrery_V1_Register()
        register.workerID = "w-1"
        register.capabilities = ["sweep", "noop"]
        register.slots = 4
        register.runningTaskIds = ["job/1", "job/2"]
        let decoded = try EnvelopeCodec.decode(EnvelopeCodec.encode(.register(register)))
        #expect(decoded == .register(register))
    }

    @Test("random bytes never crash the decoder; they fail as malformed or carry no body")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        var rejected = 0
        for length in 0..<2000 {
            let bytes = (0..<(length % 200)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                _ = try EnvelopeCodec.decode(bytes)
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 1900)
    }

    @Test("a truncated frame is malformed")
    func truncated() throws {
        var lease = Orrery_V1_TaskLease()
        lease.taskID = "job-1/task-7"
        lease.payload = Data(repeating: 7, count: 300)
        var batch = Orrery_V1_LeaseBatch()
        batch.leases = [lease]
        let frame = EnvelopeCodec.encode(.leases(batch))
        let error = #expect(throws: WireError.self) { try EnvelopeCodec.decode(Array(frame.prefix(frame.count - 50))) }
        guard case .malformed = error?.reason else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
    }

    @Test("another protocol version is refused with both versions named")
    func wrongVersion() throws {
        var envelope = Envelope()
        envelope.protocolVersion = 99
        envelope.heartbeat = Orrery_V1_Heartbeat()
        let error = #expect(throws: WireError.self) { try EnvelopeCodec.decode(try envelope.serializedBytes()) }
        #expect(error?.reason == .wrongVersion(99))
        #expect(error?.description.contains("99") == true)
        #expect(error?.description.contains("\(WireProtocol.version)") == true)
    }

    @Test("an envelope with no body is refused")
    func emptyBody() throws {
        var envelope = Envelope()
        envelope.protocolVersion = WireProtocol.version
        #expect(throws: WireError(.emptyBody)) { try EnvelopeCodec.decode(try envelope.serializedBytes()) }
    }

    @Test("a bad workload payload names the message it should have been")
    func badPayload() {
        let error = #expect(throws: WireError.self) {
            try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_SweepTask.self, from: Data([0xFF, 0xFF, 0xFF]))
        }
        #expect(error?.description.contains("orrery.v1.workloads.SweepTask") == true)
    }
}
