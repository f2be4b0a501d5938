import Testing
import Wire

@testable import Worker

@Suite("Worker control connection")
struct ControlConnectionStateMachineTests {
    func registered(interval: UInt32 = 100, misses: UInt32 = 3) -> EnvelopeBody {
        var message = Orrery_V1_Registered()
        message.heartbeatIntervalMs = interval
        message.heartbeatMisses = misses
        return .registered(message)
    }

    func reject(_ code: Orrery_V1_RejectCode) -> EnvelopeBody {
        var message = Orrery_V1_Reject()
        message.code = code
        message.reason = "because"
        return .reject(message)
    }

    @Test("registers, then heartbeats on the coordinator's interval")
    func registration() {
        var machine = ControlConnectionStateMachine(intervalMilliseconds: 1000, misses: 3)
        #expect(machine.start(now: 0) == [.openConnection, .sendRegister])
        // The first heartbeat goes at once: it is what makes the coordinator lease to us.
        #expect(machine.received(registered(interval: 100), now: 10) == [.flushPending, .sendHeartbeat])
        #expect(machine.isRegistered)
        #expect(machine.tick(now: 50, backoffDelay: { 0 }).isEmpty)
        #expect(machine.tick(now: 110, backoffDelay: { 0 }) == [.sendHeartbeat])
        #expect(machine.tick(now: 150, backoffDelay: { 0 }).isEmpty)
    }

    @Test("a silent coordinator means close, back off, reopen and register again")
    func reconnect() {
        var machine = ControlConnectionStateMachine(intervalMilliseconds: 1000, misses: 3)
        _ = machine.start(now: 0)
        _ = machine.received(registered(interval: 100, misses: 3), now: 0)
        _ = machine.received(.heartbeat(Orrery_V1_Heartbeat()), now: 250)
        #expect(machine.tick(now: 540, backoffDelay: { 400 }) != [.closeConnection])
        #expect(machine.tick(now: 551, backoffDelay: { 400 }) == [.closeConnection])
        #expect(machine.tick(now: 900, backoffDelay: { 400 }).isEmpty)
        #expect(machine.tick(now: 951, backoffDelay: { 400 }) == [.openConnection, .sendRegister])
        #expect(machine.reconnects == 1)
        #expect(!machine.isRegistered)
    }

    @Test("a registration with no answer is repeated each interval, then the socket is reopened")
    func unansweredRegistration() {
        var machine = ControlConnectionStateMachine(intervalMilliseconds: 100, misses: 3)
        _ = machine.start(now: 0)
        #expect(machine.tick(now: 100, backoffDelay: { 50 }) == [.sendRegister])
        #expect(machine.tick(now: 301, backoffDelay: { 50 }) == [.closeConnection])
        #expect(machine.tick(now: 351, backoffDelay: { 50 }) == [.openConnection, .sendRegister])
    }

    @Test("'unknown worker' means register again at once; a protocol refusal is final")
    func rejections() {
        var machine = ControlConnectionStateMachine(intervalMilliseconds: 100, misses: 3)
        _ = machine.start(now: 0)
        _ = machine.received(registered(), now: 0)
        #expect(machine.received(reject(.rejectUnknownWorker), now: 10) == [.sendRegister])
        #expect(!machine.isRegistered)
        // The refusals of other frames sent before it: the one Register in flight answers them.
        #expect(machine.received(reject(.rejectUnknownWorker), now: 11).isEmpty)
        #expect(machine.received(reject(.rejectUnknownWorker), now: 12).isEmpty)
        // With no answer, the registration is sent again on the usual timer.
        #expect(machine.tick(now: 110, backoffDelay: { 1 }) == [.sendRegister])
        #expect(machine.received(reject(.rejectProtocolVersion), now: 20) == [.closeConnection, .fail("because")])
        #expect(machine.tick(now: 10_000, backoffDelay: { 1 }).isEmpty)
    }

    @Test("a liveness contract outside the wire's bounds is refused with a warning, never overflows")
    func hostileContract() {
        var machine = ControlConnectionStateMachine(intervalMilliseconds: 1000, misses: 3)
        _ = machine.start(now: 0)
        // 4e9 ms × 4e9 misses overflowed Int64 before; now the worker keeps its own contract.
        let actions = machine.received(registered(interval: 4_000_000_000, misses: 4_000_000_000), now: 0)
        #expect(actions.count == 3)
        guard case .warn(let message) = actions.first else {
            Issue.record("expected a warning, got \(actions)")
            return
        }
        #expect(message.contains("4000000000"))
        #expect(machine.liveness.intervalMilliseconds == 1000 && machine.liveness.misses == 3)
        for (interval, misses) in [(UInt32(0), UInt32(3)), (5, 3), (100, 0), (100, 1001), (600_001, 1)] {
            guard case .warn = machine.received(registered(interval: interval, misses: misses), now: 0).first else {
                Issue.record("contract \(interval) ms × \(misses) was accepted")
                continue
            }
        }
        #expect(machine.liveness.intervalMilliseconds == 1000)
        // Silence is still judged on the kept contract.
        #expect(machine.tick(now: 3_001, backoffDelay: { 10 }) == [.closeConnection])
    }

    @Test("a duplicate id or a full cluster backs off for a liveness window, then registers again")
    func retryableRefusals() {
        for code in [Orrery_V1_RejectCode.rejectDuplicateWorker, .rejectClusterFull] {
            var machine = ControlConnectionStateMachine(intervalMilliseconds: 100, misses: 3)
            _ = machine.start(now: 0)
            let actions = machine.received(reject(code), now: 10)
            #expect(actions.first == .closeConnection)
            guard case .warn = actions.last else {
                Issue.record("no warning for \(code)")
                continue
            }
            #expect(machine.tick(now: 309, backoffDelay: { 1 }).isEmpty)
            #expect(machine.tick(now: 310, backoffDelay: { 1 }) == [.openConnection, .sendRegister])
        }
    }
}
