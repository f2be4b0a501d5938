import Runtime
import Wire

extension CoordinatorCore {
    /// Leases queued tasks to every worker with room, in two passes: first up to each
    /// worker's slots (work it starts at once), then up to its prefetch room (slots times a
    /// depth that follows its measured task time: enough queued work to cover
    /// `targetQueueMilliseconds`). So microsecond tasks stream, while a few long tasks (NAS
    /// trials, say) go to idle workers instead of queueing behind a busy one. Before both,
    /// a task that prefers a worker goes to it when it has a free slot.
    func dispatch() {
        needsDispatch = false
        guard !draining else { return }
        let now = clock.milliseconds()
        let nowMicros = clock.microseconds()
        if leases.queuedGangCount > 0 { dispatchGangs(now: now, nowMicros: nowMicros) }
        guard leases.queuedCount > 0 else { return }
        // Leased in up to three passes, sent once per worker: one frame however they split it.
        // First, tasks that prefer a worker go to it if it can start them at once.
        var batches: [WorkerID: [LeaseTable.Lease]] = [:]
        if leases.hasPreferredTasks {
            for id in workers.order {
                guard let worker = workers[id] else { continue }
                let room = min(worker.slots, capacity(of: worker)) - leases.leaseCount(worker: id)
                let batch = leases.leasePreferred(to: id, capabilities: worker.capabilities, limit: room, now: now, nowMicros: nowMicros)
                if !batch.isEmpty { batches[id, default: []] += batch }
            }
        }
        for prefetching in [false, true] {
            for id in workers.order {
                guard leases.queuedCount > 0 else { break }
                guard let worker = workers[id] else { continue }
                let limit = prefetching ? capacity(of: worker) : min(worker.slots, capacity(of: worker))
                let room = limit - leases.leaseCount(worker: id)
                guard room > 0 else { continue }
                let batch = leases.lease(to: id, capabilities: worker.capabilities, limit: room, now: now, nowMicros: nowMicros)
                if !batch.isEmpty { batches[id, default: []] += batch }
            }
        }
        for id in workers.order {
            guard let batch = batches[id], let worker = workers[id] else { continue }
            send(batch, to: worker, now: now)
        }
    }

    /// Records `batch` as held by `worker` and sends it, in frames that each stay far below
    /// the worker's largest accepted message.
    private func send(_ batch: [LeaseTable.Lease], to worker: WorkerRegistry.Worker, now: Int64) {
        let id = worker.id
        for lease in batch { recordLeased(lease, holder: id) }
        var perJob: [JobID: Int] = [:]
        for lease in batch { perJob[lease.taskID.job, default: 0] += 1 }
        for (job, count) in perJob {
            if let workload = jobs[job]?.workload { metrics.task(.leased, workload: workload, count: count) }
        }
        workers.update(id) { $0.lastLeasedAt = now }
        for part in Self.split(batch.map { ($0.taskID, wireLease($0)) }, maximumBytes: WireLimits.maximumLeaseBatchBytes) {
            var message = Orrery_V1_LeaseBatch()
            message.leases = part.map(\.wire)
            // If it never reaches the worker, the tasks go back and the attempt does not count.
            send(.leases(message), to: worker.routingID, ifUndelivered: .leases(taskIDs: part.map(\.id), worker: id))
        }
    }

    /// Leases cut into batches whose payloads and checkpoints add up to at most
    /// `maximumBytes` (a single larger lease goes alone).
    static func split(
        _ leases: [(id: TaskID, wire: Orrery_V1_TaskLease)], maximumBytes: Int
    ) -> [[(id: TaskID, wire: Orrery_V1_TaskLease)]] {
        var parts: [[(id: TaskID, wire: Orrery_V1_TaskLease)]] = []
        var current: [(id: TaskID, wire: Orrery_V1_TaskLease)] = []
        var bytes = 0
        for lease in leases {
            let size = lease.wire.payload.count + lease.wire.resumeCheckpoint.count + 256
            if !current.isEmpty && bytes + size > maximumBytes {
                parts.append(current)
                current = []
                bytes = 0
            }
            current.append(lease)
            bytes += size
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    /// A lease as sent, with the task's newest checkpoint attached when an earlier attempt
    /// committed one, or else the newest of the task it continues (when that goes with it).
    func wireLease(_ lease: LeaseTable.Lease) -> Orrery_V1_TaskLease {
        var wire = Orrery_V1_TaskLease()
        wire.taskID = lease.taskID.wire
        wire.jobID = lease.jobID.rawValue
        wire.workload = lease.workload
        wire.payload = lease.payload
        wire.deadlineMs = UInt32(lease.deadlineMilliseconds)
        wire.attempt = UInt32(lease.attempt)
        if let checkpoint = checkpoints.latest(lease.taskID) ?? lease.checkpointFrom.flatMap({ checkpoints.latest($0) }) {
            wire.resumeCheckpoint = checkpoint.data
            wire.resumeStep = checkpoint.step
        }
        return wire
    }

    /// Forms gangs from workers with a data plane and a free slot that nobody suspects, and
    /// sends every member its lease with its place in the ring.
    private func dispatchGangs(now: Int64, nowMicros: Int64) {
        let free = workers.order.compactMap { id -> (id: WorkerID, capabilities: Set<String>)? in
            guard let worker = workers[id], worker.proven, !worker.onProbation, worker.suspectedAt == nil,
                !worker.registration.dataEndpoint.isEmpty, leases.leaseCount(worker: id) < worker.slots
            else { return nil }
            return (id, worker.capabilities)
        }
        guard !free.isEmpty else {
            if leases.queuedGangCount > 0 { needsDispatch = true }
            return
        }
        let gangs = leases.leaseGangs(free: free, now: now, nowMicros: nowMicros, gatherMilliseconds: config.gangGatherMilliseconds)
        if leases.queuedGangCount > 0 { needsDispatch = true }  // look again: the gather window may end
        for gang in gangs {
            counters.increment(.gangsFormed)
            recordLeased(gang.lease, holder: nil)
            logger.info("gang formed", metadata: [
                "task": "\(gang.lease.taskID)", "attempt": "\(gang.lease.attempt)", "members": "\(gang.members.map(\.rawValue).joined(separator: ","))",
            ])
            for (rank, member) in gang.members.enumerated() {
                workers.update(member) { $0.lastLeasedAt = now }
                guard let worker = workers[member] else { continue }
                var wire = wireLease(gang.lease)
                wire.ring = ringAssignment(rank: rank, members: gang.members, collectiveID: "\(gang.lease.taskID)#\(gang.lease.attempt)")
                var batch = Orrery_V1_LeaseBatch()
                batch.leases = [wire]
                send(.leases(batch), to: worker.routingID, ifUndelivered: .gangLease(taskID: gang.lease.taskID, member: member))
            }
        }
    }

    /// Member `rank`'s view of the ring: every member's data-plane endpoint, the local (ipc)
    /// one for members on the same host as this one.
    private func ringAssignment(rank: Int, members: [WorkerID], collectiveID: String) -> Orrery_V1_RingAssignment {
        let host = workers[members[rank]]?.registration.hostname
        var ring = Orrery_V1_RingAssignment()
        ring.rank = UInt32(rank)
        ring.worldSize = UInt32(members.count)
        ring.collectiveID = collectiveID
        ring.collectiveTimeoutMs = UInt32(config.collectiveTimeoutMilliseconds)
        ring.peers = members.map { member in
            var peer = Orrery_V1_RingPeer()
            peer.workerID = member.rawValue
            if let registration = workers[member]?.registration {
                let local = registration.hostname == host && !registration.dataEndpointLocal.isEmpty
                peer.endpoint = local ? registration.dataEndpointLocal : registration.dataEndpoint
                peer.curvePublicKey = registration.curvePublicKey
            }
            return peer
        }
        return ring
    }

    /// How many leases `worker` may hold: none before it is heard from after registering,
    /// one while its leases keep expiring (probation, until it returns a result), otherwise
    /// its slots times the prefetch depth, within the cap the worker asked for.
    func capacity(of worker: WorkerRegistry.Worker) -> Int {
        guard worker.proven else { return 0 }
        if worker.onProbation { return 1 }
        let depth: Int
        if let average = worker.averageTaskMilliseconds {
            depth = Int(min(Double(config.maxPrefetchPerSlot), config.targetQueueMilliseconds / average))
        } else {
            depth = 2
        }
        let room = worker.slots * min(config.maxPrefetchPerSlot, max(2, depth))
        return worker.maxPrefetch > 0 ? min(room, worker.maxPrefetch) : room
    }

    func sendHeartbeats() {
        heartbeatSequence += 1
        var heartbeat = Orrery_V1_Heartbeat()
        heartbeat.sequence = heartbeatSequence
        for id in workers.order {
            if let worker = workers[id] { send(.heartbeat(heartbeat), to: worker.routingID) }
        }
    }

    /// Workers silent for longer than the liveness policy allows are dead: their leases go
    /// back to the queue (or fail, out of attempts), and they must register again.
    func declareSilentWorkersDead(now: Int64) {
        let dead = workers.silent(now: now, policy: config.liveness)
        for id in dead {
            let silence = now - (workers[id]?.lastHeard ?? now)
            let released = leases.releaseWorker(id, reason: "worker \(id) died (silent for \(silence) ms)")
            counters.increment(.workersDeclaredDead)
            logLimited(.warning, "worker declared dead", worker: id,
                why: "silent for \(silence) ms; \(released.count) lease(s) returned", key: "dead")
            apply(released)
            leases.forgetPreferences(of: id)
        }
        workers.remove(dead)
    }

    /// Tells the watchers of a job that no registered worker can run why it does not move
    /// (instead of a progress line stuck at 0 while only the coordinator's log says why).
    func noteUnrunnableJobs() {
        let runnable = workers.workers.values.reduce(into: Set<String>()) { $0.formUnion($1.capabilities) }
        for job in jobs.values where job.isRunning && !runnable.contains(job.workload) {
            let note = "waiting: no registered worker runs workload '\(job.workload)'"
            guard job.progress != note, leases.counts(jobID: job.id).leased == 0 else { continue }
            job.progress = note
            job.changedSinceUpdate = true
        }
    }

    func expireLeases(now: Int64) {
        for (worker, release) in leases.expireDeadlines(now: now) {
            workers.update(worker) { $0.expiredInARow += 1 }
            if case .requeued(let taskID) = release {
                cancel([taskID], on: worker, reason: "lease deadline passed")
            } else if case .failed(let final) = release {
                cancel([TaskID(job: final.jobID, key: final.key)], on: worker, reason: "lease deadline passed")
            }
            apply([release])
        }
    }
}
