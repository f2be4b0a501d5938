import Logging
import Testing
import Wire

@testable import Coordinator

/// How many leases a worker may hold: the rules against registration floods and hoarding.
@Suite("Lease capacity per worker")
struct CapacityTests {
    let service = CoordinatorCore(config: CoordinatorConfig(), logger: Logger(label: "test"))

    func worker(slots: UInt32 = 2, maxPrefetch: UInt32 = 0, proven: Bool = true, expired: Int = 0, average: Double? = nil) -> WorkerRegistry.Worker {
        var registration = Orrery_V1_Register()
        registration.workerID = "w"
        registration.slots = slots
        registration.maxPrefetch = maxPrefetch
        var worker = WorkerRegistry.Worker(id: "w", routingID: [1], registration: registration, capabilities: ["noop"], lastHeard: 0)
        worker.proven = proven
        worker.expiredInARow = expired
        worker.averageTaskMilliseconds = average
        return worker
    }

    @Test("nothing before the worker is heard from after registering")
    func unproven() { #expect(service.capacity(of: worker(proven: false)) == 0) }

    @Test("two per slot before any task time is known; deep for microsecond tasks, shallow for long ones")
    func depth() {
        #expect(service.capacity(of: worker()) == 4)
        #expect(service.capacity(of: worker(average: 0.001)) == 2 * 512)
        #expect(service.capacity(of: worker(average: 60_000)) == 4)
    }

    @Test("a worker's own cap wins over the coordinator's depth")
    func workerCap() {
        #expect(service.capacity(of: worker(maxPrefetch: 3, average: 0.001)) == 3)
        #expect(service.capacity(of: worker(maxPrefetch: 4096)) == 4)
    }

    @Test("three expired leases in a row put a worker on probation: one lease at a time")
    func probation() {
        #expect(service.capacity(of: worker(expired: 2, average: 0.001)) == 1024)
        #expect(service.capacity(of: worker(expired: 3, average: 0.001)) == 1)
    }
}
