import OrreryTestSupport
import Testing
import Wire

@testable import Coordinator

/// Who the coordinator admits, and how much of it one peer may use.
@Suite("Admission: registrations, identities, request rates")
struct AdmissionTests {
    static func register(_ edit: (inout Orrery_V1_Register) -> Void = { _ in }) -> Orrery_V1_Register {
        var message = Orrery_V1_Register()
        message.workerID = "w1"
        message.slots = 2
        message.capabilities = ["sweep"]
        edit(&message)
        return message
    }

    typealias Edit = HostileEdit<Orrery_V1_Register>

    @Test(
        "a registration out of bounds is refused naming the field",
        arguments: [
            Edit("slots") { $0.slots = 4_000_000_000 },
            Edit("worker_id") { $0.workerID = "" },
            Edit("worker_id") { $0.workerID = String(repeating: "w", count: 256) },
            Edit("max_prefetch") { $0.maxPrefetch = 1 },
            Edit("max_prefetch") { $0.maxPrefetch = 2 * 512 + 1 },
            Edit("capabilities") { $0.capabilities = [] },
            Edit("capabilities") { $0.capabilities = Array(repeating: "sweep", count: 65) },
            Edit("hostname") { $0.hostname = String(repeating: "h", count: 513) },
            Edit("running_task_ids") { $0.runningTaskIds = [String(repeating: "t", count: 256)] },
        ])
    func refusedRegistrations(edit: Edit) {
        let problem = RegistrationRules.problem(with: Self.register(edit.change))
        #expect(problem?.hasPrefix(edit.expected) == true, "\(problem ?? "accepted")")
    }

    @Test("a registration within bounds passes; slots 0 means one")
    func acceptedRegistrations() {
        #expect(RegistrationRules.problem(with: Self.register()) == nil)
        #expect(RegistrationRules.problem(with: Self.register { $0.slots = 0 }) == nil)
        #expect(RegistrationRules.problem(with: Self.register { $0.maxPrefetch = 2 }) == nil)
    }

    @Test("the registry knows workers by connection identity; a reconnect keeps it, removal frees all")
    func registryIdentity() {
        var registry = WorkerRegistry()
        let first = registry.register(Self.register(), routingID: Array("w1#a".utf8), now: 0)
        #expect(!first)
        #expect(registry.worker(routingID: Array("w1#a".utf8))?.id == "w1")
        #expect(registry.worker(routingID: Array("w1".utf8)) == nil)
        #expect(registry["w1"]?.proven == false)
        registry.heard("w1", now: 5)
        #expect(registry["w1"]?.proven == true)
        // The same process again (same routing id): still known, not yet proven again.
        let again = registry.register(Self.register(), routingID: Array("w1#a".utf8), now: 6)
        #expect(again)
        #expect(registry["w1"]?.proven == false)
        registry.remove(["w1"])
        #expect(registry.count == 0 && registry.order.isEmpty)
        #expect(registry.worker(routingID: Array("w1#a".utf8)) == nil)
    }

    @Test("client requests: a burst, then the refill rate; a flood of identities shares one bucket")
    func requestRate() {
        var limiter = RequestRateLimiter(burst: 3, perSecond: 10, maximumPeers: 2)
        let peer: [UInt8] = [1]
        let burst = (0..<4).map { _ in limiter.allow(peer, now: 0) }
        #expect(burst == [true, true, true, false])
        let refilled = (0..<2).map { _ in limiter.allow(peer, now: 100) }  // one token per 100 ms
        #expect(refilled == [true, false])
        let other = limiter.allow([2], now: 100)
        #expect(other)
        // The table is full: newcomers share the overflow bucket (3 tokens among them).
        let newcomers = (3..<20).map { UInt8($0) }.filter { limiter.allow([$0], now: 101) }
        #expect(newcomers.count == 3)
    }
}
