import Foundation
import Runtime
import Wire
import Workloads

extension CoordinatorService {
    func handleRegister(_ message: Orrery_V1_Register, from sender: [UInt8]) {
        let now = MonotonicClock.milliseconds
        guard !message.workerID.isEmpty, Array(message.workerID.utf8) == sender else {
            reject(sender, .rejectInvalidRegistration,
                "worker_id '\(message.workerID)' must be non-empty and equal the socket's routing id")
            return
        }
        let runnable = message.capabilities.filter(registry.contains)
        guard !runnable.isEmpty else {
            reject(sender, .rejectInvalidRegistration,
                "worker offers \(message.capabilities) but this coordinator runs \(registry.kinds)")
            return
        }
        let returning = workers.register(message, routingID: sender, now: now)
        counters.increment(.workersRegistered)
        if returning {
            // Leases this worker no longer runs (it restarted, or lost them) go back to the queue.
            let released = leases.releaseWorker(
                message.workerID, reason: "worker \(message.workerID) re-registered without it",
                keeping: Set(message.runningTaskIds))
            apply(released)
        }
        logger.info(
            returning ? "worker re-registered" : "worker registered",
            metadata: [
                "worker": "\(message.workerID)", "host": "\(message.hostname)", "pid": "\(message.pid)",
                "slots": "\(message.slots)", "capabilities": "\(message.capabilities.joined(separator: ","))",
            ])
        var reply = Orrery_V1_Registered()
        reply.coordinatorID = coordinatorID
        reply.heartbeatIntervalMs = UInt32(config.liveness.intervalMilliseconds)
        reply.heartbeatMisses = UInt32(config.liveness.misses)
        send(.registered(reply), to: sender)
        needsDispatch = true
    }

    func handleHeartbeat(_ message: Orrery_V1_Heartbeat, worker: String) {
        workers.update(worker) { $0.runningReported = Int(message.runningTasks) }
    }

    func handleProgress(_ message: Orrery_V1_ProgressBatch, worker: String) {
        for item in message.items {
            logger.debug("progress", metadata: ["task": "\(item.taskID)", "fraction": "\(item.fraction)", "note": "\(item.message)"])
            guard !item.message.isEmpty, let jobID = item.taskID.split(separator: "/").first, let job = jobs[String(jobID)],
                job.isRunning
            else { continue }
            job.progress = item.message
            job.changedSinceUpdate = true
        }
    }

    func handleResults(_ batch: Orrery_V1_ResultBatch, worker: String) {
        let nowMicros = MonotonicClock.microseconds
        for result in batch.results {
            workers.recordTask(worker, elapsedMilliseconds: result.elapsedMs)
            switch result.outcome {
            case .success(let success):
                completeTask(result.taskID, success: success, worker: worker, nowMicros: nowMicros)
            case .failure(let failure):
                let now = MonotonicClock.milliseconds
                for suspect in failure.suspectedWorkers where suspect != worker { workers.suspect(suspect, now: now) }
                if let release = leases.fail(
                    result.taskID, worker: worker, attempt: Int(result.attempt), message: failure.message, retryable: failure.retryable)
                {
                    logger.info("task failed", metadata: [
                        "task": "\(result.taskID)", "worker": "\(worker)", "why": "\(failure.message)",
                        "suspects": "\(failure.suspectedWorkers.joined(separator: ","))",
                    ])
                    apply([release])
                }
            case nil:
                logger.warning("result without an outcome dropped", metadata: ["task": "\(result.taskID)", "worker": "\(worker)"])
            }
        }
        needsDispatch = true
    }

    private func completeTask(_ taskID: String, success: Orrery_V1_TaskSuccess, worker: String, nowMicros: Int64) {
        switch leases.complete(taskID, worker: worker, nowMicros: nowMicros) {
        case .accepted(let final, let roundTrip, let superseded):
            counters.increment(.tasksCompleted)
            if let superseded { cancel([taskID], on: superseded, reason: "another worker finished it first") }
            guard let job = jobs[final.jobID] else { return }
            if let roundTrip { job.recordRoundTrip(roundTrip) }
            let output = TaskOutput(metrics: success.metrics, payload: success.payload)
            deliver(TaskOutcome(key: final.key, result: .success(output), attempts: final.attempts, workerID: worker), to: job)
        case .duplicate:
            counters.increment(.duplicateResults)
            if let jobID = taskID.split(separator: "/").first, let job = jobs[String(jobID)] {
                job.duplicatesIgnored += 1
            }
            logger.debug("duplicate result ignored", metadata: ["task": "\(taskID)", "worker": "\(worker)"])
        case .unknown:
            counters.increment(.duplicateResults)
            logger.debug("result for unknown task ignored", metadata: ["task": "\(taskID)", "worker": "\(worker)"])
        case .memberFinished:
            logger.debug("gang member finished", metadata: ["task": "\(taskID)", "worker": "\(worker)"])
        }
        cancelAbandoned()
    }

    /// Keeps the newest checkpoint of a task's current attempt; older attempts' are stale.
    func handleCheckpoint(_ message: Orrery_V1_Checkpoint, worker: String) {
        guard leases.acceptsCheckpoint(message.taskID, worker: worker, attempt: Int(message.attempt)) else {
            logger.info("stale checkpoint dropped", metadata: ["task": "\(message.taskID)", "worker": "\(worker)", "attempt": "\(message.attempt)"])
            return
        }
        checkpoints.commit(message.taskID, .init(attempt: Int(message.attempt), step: message.step, data: message.data), logger: logger)
        counters.increment(.checkpointsCommitted)
        logger.debug("checkpoint committed", metadata: ["task": "\(message.taskID)", "step": "\(message.step)", "bytes": "\(message.data.count)"])
    }

    /// Tells gang members whose gang was released because of another member to stop.
    func cancelAbandoned() {
        for (worker, taskID) in leases.takeAbandoned() {
            cancel([taskID], on: worker, reason: "a member of its gang failed or left; the gang is re-formed")
        }
    }

    /// Acts on leases that came back: requeued ones count as retries, final failures go to
    /// their planners.
    func apply(_ releases: [LeaseTable.Release]) {
        for release in releases {
            switch release {
            case .requeued(let taskID):
                if let jobID = taskID.split(separator: "/").first { jobs[String(jobID)]?.retries += 1 }
                needsDispatch = true
            case .failed(let final):
                guard let job = jobs[final.jobID] else { continue }
                let outcome = TaskOutcome(
                    key: final.key, result: .failure(final.failure ?? "failed"), attempts: final.attempts,
                    workerID: final.worker)
                deliver(outcome, to: job)
            }
        }
        cancelAbandoned()
    }

    /// Hands one task's final outcome to its job's planner and queues what it plans next.
    func deliver(_ outcome: TaskOutcome, to job: Job) {
        guard job.isRunning, let planner = job.planner else { return }
        if case .failure = outcome.result { job.tasksFailed += 1 } else { job.tasksDone += 1 }
        job.changedSinceUpdate = true
        enqueue(planner.consume(outcome), for: job)
        checkCompletion(job)
    }

    func enqueue(_ tasks: [PlannedTask], for job: Job) {
        guard !tasks.isEmpty else { return }
        let rejected = leases.enqueue(jobID: job.id, tasks)
        job.tasksPlanned += UInt64(tasks.count - rejected.count)
        if !rejected.isEmpty {
            fail(job, "the \(job.spec.workload.kind) planner produced duplicate task keys: \(rejected.prefix(3))")
        }
        needsDispatch = true
    }

    func checkCompletion(_ job: Job) {
        guard job.isRunning, let planner = job.planner else { return }
        let (queued, leased) = leases.counts(jobID: job.id)
        guard planner.isComplete || (queued == 0 && leased == 0 && planner.failureReason != nil) else { return }
        if let reason = planner.failureReason {
            end(job, .failed, error: reason)
        } else {
            end(job, .succeeded)
        }
    }

    func fail(_ job: Job, _ reason: String) { end(job, .failed, error: reason) }

    /// Ends a job: cancels what is still out, takes the final report, tells its watchers.
    func end(_ job: Job, _ state: Orrery_V1_JobState, error: String = "") {
        guard job.isRunning else { return }
        let now = MonotonicClock.milliseconds
        for (worker, taskIDs) in leases.removeJob(job.id) {
            cancel(taskIDs, on: worker, reason: "job \(job.id) ended")
        }
        checkpoints.removeJob(job.id)
        job.finish(state, error: error, now: now)
        logger.info(
            "job ended",
            metadata: [
                "job": "\(job.id)", "state": "\(state)", "done": "\(job.tasksDone)", "failed": "\(job.tasksFailed)",
                "retries": "\(job.retries)", "error": "\(error)",
            ])
        sendUpdate(job, now: now)
        pruneFinishedJobs()
    }

    func cancel(_ taskIDs: [String], on worker: String, reason: String) {
        guard let routingID = workers[worker]?.routingID, !taskIDs.isEmpty else { return }
        var message = Orrery_V1_Cancel()
        message.taskIds = taskIDs
        message.reason = reason
        send(.cancel(message), to: routingID)
    }

    private func pruneFinishedJobs() {
        let finished = jobOrder.filter { jobs[$0]?.isRunning == false }
        for id in finished.dropLast(config.finishedJobsKept) {
            jobs[id] = nil
            jobOrder.removeAll { $0 == id }
        }
    }
}
