import Wire

/// The workers that have registered and not since been declared dead.
///
/// A worker is known by its id and reached by its routing id. The routing id is its
/// connection's identity, chosen by the worker process and kept across its reconnects, so
/// the registry tells a reconnect of the same process (same routing id) from another
/// process claiming a live worker's id (refused: `REJECT_DUPLICATE_WORKER`).
struct WorkerRegistry {
    struct Worker {
        let id: WorkerID
        let routingID: [UInt8]
        var registration: Orrery_V1_Register
        var capabilities: Set<String>
        var lastHeard: Int64
        /// Set once the worker is heard from after registering (its first heartbeat): only
        /// then does it get leases, so a flood of registrations that never follow up takes
        /// no work out of the queue.
        var proven = false
        var runningReported: Int = 0
        /// Results of this worker that finished a task (duplicates and stale ones not counted).
        var tasksCompleted: UInt64 = 0
        /// Leases of this worker that expired since its last result: a worker that takes
        /// leases and never answers is held to one lease at a time (probation).
        var expiredInARow = 0
        /// When it was last sent a lease (or had restored leases re-attached).
        var lastLeasedAt: Int64 = 0
        /// Moving average of task execution time on this worker, which sets how many tasks
        /// it is sent ahead (a deep queue for microsecond tasks, a shallow one for long ones).
        var averageTaskMilliseconds: Double?
        /// Set when a gang member blamed this worker (disconnected, silent); it joins no new
        /// gang until it is heard from after that.
        var suspectedAt: Int64?

        var slots: Int { max(1, Int(registration.slots)) }
        /// The most leases the worker asked to hold (0: no cap of its own).
        var maxPrefetch: Int { Int(registration.maxPrefetch) }
        /// Leases expired in a row before a worker is put on probation.
        static let probationAfter = 3
        var onProbation: Bool { expiredInARow >= Self.probationAfter }
    }

    private(set) var workers: [WorkerID: Worker] = [:]
    private var byRoutingID: [[UInt8]: WorkerID] = [:]
    /// Registration order, so that dispatch visits workers in a stable order.
    private(set) var order: [WorkerID] = []

    var count: Int { workers.count }

    subscript(id: WorkerID) -> Worker? { workers[id] }

    /// The worker a frame came from, if its routing id belongs to a registered worker.
    func worker(routingID: [UInt8]) -> Worker? {
        byRoutingID[routingID].flatMap { workers[$0] }
    }

    /// Adds a worker, or replaces one whose registration ended (same id: its own reconnect,
    /// or a new process after the old one was declared dead). Returns true when the id was
    /// already registered.
    @discardableResult
    mutating func register(_ message: Orrery_V1_Register, routingID: [UInt8], now: Int64) -> Bool {
        let id = WorkerID(message.workerID)
        var worker = Worker(
            id: id, routingID: routingID, registration: message,
            capabilities: Set(message.capabilities), lastHeard: now)
        let previous = workers[id]
        if let previous {
            worker.tasksCompleted = previous.tasksCompleted
            worker.averageTaskMilliseconds = previous.averageTaskMilliseconds
            worker.expiredInARow = previous.expiredInARow
            byRoutingID[previous.routingID] = nil
        } else {
            order.append(id)
        }
        workers[id] = worker
        byRoutingID[routingID] = id
        return previous != nil
    }

    mutating func heard(_ id: WorkerID, now: Int64) {
        guard workers[id] != nil else { return }
        workers[id]!.lastHeard = now
        workers[id]!.proven = true
        if let suspected = workers[id]!.suspectedAt, now > suspected { workers[id]!.suspectedAt = nil }
    }

    /// Keeps `id` out of new gangs until it is next heard from.
    mutating func suspect(_ id: WorkerID, now: Int64) { workers[id]?.suspectedAt = now }

    mutating func update(_ id: WorkerID, _ change: (inout Worker) -> Void) {
        guard workers[id] != nil else { return }
        change(&workers[id]!)
    }

    /// Records one task's execution time (any result, counted or not) in the worker's
    /// moving average.
    mutating func recordTaskTime(_ id: WorkerID, elapsedMilliseconds: Double) {
        update(id) { worker in
            // The value comes from the network: only finite times may steer dispatch.
            guard elapsedMilliseconds.isFinite else { return }
            let sample = min(3_600_000, max(0.001, elapsedMilliseconds))
            worker.averageTaskMilliseconds = worker.averageTaskMilliseconds.map { 0.9 * $0 + 0.1 * sample } ?? sample
        }
    }

    /// Workers silent for longer than `policy` allows.
    func silent(now: Int64, policy: LivenessPolicy) -> [WorkerID] {
        order.filter { id in workers[id].map { policy.isDead(lastHeard: $0.lastHeard, now: now) } ?? false }
    }

    /// Forgets workers entirely (they were declared dead): nothing of them stays in memory.
    /// One pass over the order for all of them, so that a flood's ten thousand
    /// registrations expire without a quadratic stall.
    mutating func remove(_ ids: [WorkerID]) {
        var removed = Set<WorkerID>()
        for id in ids {
            guard let worker = workers.removeValue(forKey: id) else { continue }
            if byRoutingID[worker.routingID] == id { byRoutingID[worker.routingID] = nil }
            removed.insert(id)
        }
        guard !removed.isEmpty else { return }
        order.removeAll { removed.contains($0) }
        if workers.isEmpty {
            // Dictionaries keep their capacity: after a flood of registrations, give it back.
            workers = [:]
            byRoutingID = [:]
            order = []
        }
    }
}
