import Wire

/// The workers that have registered and not since been declared dead.
struct WorkerRegistry {
    struct Worker {
        let id: String
        let routingID: [UInt8]
        var registration: Orrery_V1_Register
        var capabilities: Set<String>
        var lastHeard: Int64
        var runningReported: Int = 0
        var tasksCompleted: UInt64 = 0
        /// Moving average of task execution time on this worker, which sets how many tasks
        /// it is sent ahead (a deep queue for microsecond tasks, a shallow one for long ones).
        var averageTaskMilliseconds: Double?
        /// Set when a gang member blamed this worker (disconnected, silent); it joins no new
        /// gang until it is heard from after that.
        var suspectedAt: Int64?

        var slots: Int { max(1, Int(registration.slots)) }
    }

    private(set) var workers: [String: Worker] = [:]
    /// Registration order, so that dispatch visits workers in a stable order.
    private(set) var order: [String] = []

    subscript(id: String) -> Worker? { workers[id] }

    /// The worker a frame came from, if its routing id belongs to a registered worker.
    func worker(routingID: [UInt8]) -> Worker? {
        let id = String(decoding: routingID, as: UTF8.self)
        guard let worker = workers[id], worker.routingID == routingID else { return nil }
        return worker
    }

    /// Adds or replaces a worker; returns true when the id was already registered.
    @discardableResult
    mutating func register(_ message: Orrery_V1_Register, routingID: [UInt8], now: Int64) -> Bool {
        let existed = workers[message.workerID] != nil
        var worker = Worker(
            id: message.workerID, routingID: routingID, registration: message,
            capabilities: Set(message.capabilities), lastHeard: now)
        if let previous = workers[message.workerID] {
            worker.tasksCompleted = previous.tasksCompleted
            worker.averageTaskMilliseconds = previous.averageTaskMilliseconds
        } else {
            order.append(message.workerID)
        }
        workers[message.workerID] = worker
        return existed
    }

    mutating func heard(_ id: String, now: Int64) {
        workers[id]?.lastHeard = now
        if let suspected = workers[id]?.suspectedAt, now > suspected { workers[id]?.suspectedAt = nil }
    }

    /// Keeps `id` out of new gangs until it is next heard from.
    mutating func suspect(_ id: String, now: Int64) { workers[id]?.suspectedAt = now }

    mutating func update(_ id: String, _ change: (inout Worker) -> Void) {
        guard workers[id] != nil else { return }
        change(&workers[id]!)
    }

    /// Records one finished task's execution time in the worker's moving average.
    mutating func recordTask(_ id: String, elapsedMilliseconds: Double) {
        update(id) { worker in
            worker.tasksCompleted += 1
            // The value comes from the network: only finite times may steer dispatch.
            guard elapsedMilliseconds.isFinite else { return }
            let sample = min(3_600_000, max(0.001, elapsedMilliseconds))
            worker.averageTaskMilliseconds = worker.averageTaskMilliseconds.map { 0.9 * $0 + 0.1 * sample } ?? sample
        }
    }

    /// Workers silent for longer than `policy` allows.
    func silent(now: Int64, policy: LivenessPolicy) -> [String] {
        order.filter { id in workers[id].map { policy.isDead(lastHeard: $0.lastHeard, now: now) } ?? false }
    }

    mutating func remove(_ id: String) {
        workers[id] = nil
        order.removeAll { $0 == id }
    }
}
