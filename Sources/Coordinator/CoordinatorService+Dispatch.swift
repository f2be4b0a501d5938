import Runtime
import Wire

extension CoordinatorService {
    /// Leases queued tasks to every worker with room. A worker's room is its slots times a
    /// prefetch depth that follows its measured task time: enough queued work to cover
    /// `targetQueueMilliseconds`, so that microsecond tasks stream while long tasks are not
    /// hoarded by one worker.
    func dispatch() {
        needsDispatch = false
        guard !draining, leases.queuedCount > 0 else { return }
        let now = MonotonicClock.milliseconds
        let nowMicros = MonotonicClock.microseconds
        for id in workers.order {
            guard leases.queuedCount > 0 else { return }
            guard let worker = workers[id] else { continue }
            let room = capacity(of: worker) - leases.leaseCount(worker: id)
            guard room > 0 else { continue }
            let batch = leases.lease(to: id, capabilities: worker.capabilities, limit: room, now: now, nowMicros: nowMicros)
            guard !batch.isEmpty else { continue }
            var message = Orrery_V1_LeaseBatch()
            message.leases = batch.map { lease in
                var wire = Orrery_V1_TaskLease()
                wire.taskID = lease.taskID
                wire.jobID = lease.jobID
                wire.workload = lease.workload
                wire.payload = lease.payload
                wire.deadlineMs = UInt32(lease.deadlineMilliseconds)
                wire.attempt = UInt32(lease.attempt)
                return wire
            }
            if !send(.leases(message), to: worker.routingID) {
                // Never reached the worker: the tasks go back, and the attempt does not count.
                leases.unlease(batch.map(\.taskID))
                logger.warning("lease batch could not be sent; tasks requeued", metadata: ["worker": "\(id)", "tasks": "\(batch.count)"])
            }
        }
    }

    func capacity(of worker: WorkerRegistry.Worker) -> Int {
        let depth: Int
        if let average = worker.averageTaskMilliseconds {
            depth = Int(config.targetQueueMilliseconds / average)
        } else {
            depth = 2
        }
        return worker.slots * min(config.maxPrefetchPerSlot, max(2, depth))
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
        for id in workers.silent(now: now, policy: config.liveness) {
            let silence = now - (workers[id]?.lastHeard ?? now)
            let released = leases.releaseWorker(id, reason: "worker \(id) died (silent for \(silence) ms)")
            workers.remove(id)
            counters.increment(.workersDeclaredDead)
            logger.warning("worker declared dead", metadata: ["worker": "\(id)", "silent_ms": "\(silence)", "leases_returned": "\(released.count)"])
            apply(released)
        }
    }

    func expireLeases(now: Int64) {
        for (worker, release) in leases.expireDeadlines(now: now) {
            if case .requeued(let taskID) = release {
                cancel([taskID], on: worker, reason: "lease deadline passed")
            } else if case .failed(let final) = release {
                cancel(["\(final.jobID)/\(final.key)"], on: worker, reason: "lease deadline passed")
            }
            apply([release])
        }
    }
}
