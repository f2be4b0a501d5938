import Foundation
import Ledger
import Reporting
import Logging
import Runtime
import Wire
import Workloads

extension CoordinatorCore {
    func handleRegister(_ message: Orrery_V1_Register, from sender: [UInt8]) {
        let now = clock.milliseconds()
        if let problem = RegistrationRules.problem(with: message) {
            refuseRegistration(sender, .rejectInvalidRegistration, problem)
            return
        }
        if config.curve != nil && !message.dataEndpoint.isEmpty && message.curvePublicKey.isEmpty {
            // Its gang peers would connect with CURVE to a plaintext data plane and fail
            // mid-job; refused now, it is told why.
            refuseRegistration(sender, .rejectInvalidRegistration,
                "this coordinator runs CURVE: a worker with a data plane must register its curve_public_key (start it with --curve-key)")
            return
        }
        let runnable = message.capabilities.filter(registry.contains)
        guard !runnable.isEmpty else {
            refuseRegistration(sender, .rejectInvalidRegistration,
                "worker offers \(message.capabilities.prefix(8)) but this coordinator runs \(registry.kinds)")
            return
        }
        let id = WorkerID(message.workerID)
        if let holder = workers[id], holder.routingID != sender {
            // Another process (another connection identity) claims a live worker's id: the
            // live one keeps its id and leases. Its own restart waits for the old entry to
            // be declared dead (the worker backs off and registers again).
            refuseRegistration(sender, .rejectDuplicateWorker,
                "worker id '\(message.workerID)' is held by a live worker (heard \(now - holder.lastHeard) ms ago)")
            return
        }
        if let previous = workers.worker(routingID: sender), previous.id != id {
            // One connection, one worker: a connection that registers under another id
            // has left as its old self.
            apply(leases.releaseWorker(previous.id, reason: "its connection re-registered as worker \(message.workerID)"))
            leases.forgetPreferences(of: previous.id)
            workers.remove([previous.id])
        }
        let returning = workers[id] != nil
        guard returning || workers.count < config.maxWorkers else {
            refuseRegistration(sender, .rejectClusterFull, "this coordinator admits at most \(config.maxWorkers) workers")
            return
        }
        workers.register(message, routingID: sender, now: now)
        counters.increment(.workersRegistered)
        // Leases this worker no longer runs (it restarted, or lost them) go back to the
        // queue; a new registration can hold some too: leases restored from the ledger after
        // a coordinator restart, which it keeps if it still runs them.
        let running = message.runningTaskIds.compactMap { TaskID(wire: $0) }
        let released = leases.releaseWorker(
            id, reason: "worker \(id) re-registered without it", keeping: Set(running))
        apply(released)
        leases.reattach(id, now: now)
        workers.update(id) { $0.lastLeasedAt = now }
        // Tasks it still runs that are not its any more (it was declared dead and they went
        // elsewhere, finished, or their job ended) are stopped, not finished a second time.
        let stale = message.runningTaskIds.filter { wire in TaskID(wire: wire).map { !leases.isHeld($0, by: id) } ?? true }
        logLimited(
            .info, returning ? "worker re-registered" : "worker registered", from: sender,
            why: "host=\(message.hostname) pid=\(message.pid) slots=\(message.slots) capabilities=\(message.capabilities.joined(separator: ","))",
            key: "register")
        var reply = Orrery_V1_Registered()
        reply.coordinatorID = coordinatorID
        reply.heartbeatIntervalMs = UInt32(config.liveness.intervalMilliseconds)
        reply.heartbeatMisses = UInt32(config.liveness.misses)
        send(.registered(reply), to: sender)
        if !stale.isEmpty {
            var cancel = Orrery_V1_Cancel()
            cancel.taskIds = stale
            cancel.reason = "these leases are no longer this worker's (it was away too long)"
            send(.cancel(cancel), to: sender)
        }
        // No dispatch yet: the worker gets leases once it is heard from again.
    }

    private func refuseRegistration(_ sender: [UInt8], _ code: Orrery_V1_RejectCode, _ reason: String) {
        counters.increment(.registrationsRefused)
        guard logLimited(.warning, "registration refused", from: sender, why: reason, key: "refused") else { return }
        reject(sender, code, reason)
    }

    func handleHeartbeat(_ message: Orrery_V1_Heartbeat, worker: WorkerID) {
        workers.update(worker) { $0.runningReported = Int(message.runningTasks) }
        reconcileLeases(worker, reported: Int(message.runningTasks))
        needsDispatch = true  // a first heartbeat is what makes a new worker eligible for leases
    }

    /// A worker whose heartbeat says it holds no lease, sent well after its newest lease
    /// left here, holds none: leases the coordinator counts for it were lost on the way (a
    /// coordinator killed right after sending them, restarted on its ledger). They go back
    /// to the queue instead of waiting forever on a worker that never heard of them.
    private func reconcileLeases(_ id: WorkerID, reported: Int) {
        guard reported == 0, leases.leaseCount(worker: id) > 0, let worker = workers[id] else { return }
        let now = clock.milliseconds()
        guard now - worker.lastLeasedAt > 3 * Int64(config.liveness.intervalMilliseconds) else { return }
        let released = leases.releaseLost(id, reason: "worker \(id) reports holding no lease")
        guard !released.isEmpty else { return }
        logLimited(.warning, "leases the worker never received returned", worker: id, why: "\(released.count) lease(s)", key: "lost-lease")
        apply(released)
    }

    func handleProgress(_ message: Orrery_V1_ProgressBatch, worker: WorkerID) {
        for item in message.items {
            logger.trace("progress", metadata: ["task": "\(PrintableText.escaped(item.taskID))", "fraction": "\(item.fraction)"])
            // Only a worker holding the task may speak for it.
            guard !item.message.isEmpty || !item.scalars.isEmpty, let taskID = TaskID(wire: item.taskID), leases.isHeld(taskID, by: worker),
                let job = jobs[taskID.job], job.isRunning
            else { continue }
            leases.renew(taskID, by: worker, now: clock.milliseconds())
            if !item.message.isEmpty { job.progress = item.message.truncated(toBytes: WireLimits.maximumNoteBytes) }
            if !item.scalars.isEmpty { recordScalars(item.scalars, task: taskID, of: job) }
            job.changedSinceUpdate = true
        }
    }

    /// Adds a task's curve points to its job and to the ledger. Tags come from the network:
    /// an empty one or one longer than 200 bytes is dropped, the rest are escaped.
    private func recordScalars(_ scalars: [Orrery_V1_Scalar], task: TaskID, of job: Job) {
        let key = String(task.wire.dropFirst(job.id.rawValue.count + 1))
        let wallTime = Double(Self.wallMilliseconds) / 1000
        var stored: [CurvePoint] = []
        for scalar in scalars.prefix(1024) where !scalar.tag.isEmpty && scalar.tag.utf8.count <= 200 {
            let point = job.curves.append(
                task: PrintableText.escaped(key, limit: 200), tag: PrintableText.escaped(scalar.tag, limit: 200), step: scalar.step,
                value: scalar.value, wallTime: wallTime)
            guard job.storedPoints < Job.maximumStoredPoints else { continue }
            job.storedPoints += 1
            stored.append(point)
        }
        if !stored.isEmpty { ledger?.append(.scalars(jobID: job.id.rawValue, stored)) }
    }

    func handleResults(_ batch: Orrery_V1_ResultBatch, worker: WorkerID) {
        let nowMicros = clock.microseconds()
        for result in batch.results {
            workers.recordTaskTime(worker, elapsedMilliseconds: result.elapsedMs)
            guard let taskID = TaskID(wire: result.taskID) else {
                // Not an id this coordinator made: no lease can match it.
                counters.increment(.resultsUnknownTask)
                continue
            }
            switch result.outcome {
            case .success(let success):
                completeTask(taskID, attempt: Int(result.attempt), success: success, worker: worker, nowMicros: nowMicros)
            case .failure(let failure):
                let now = clock.milliseconds()
                let message = failure.message.truncated(toBytes: WireLimits.maximumNoteBytes)
                let blamesPeer = failure.suspectedWorkers.contains { $0 != worker.rawValue }
                if let release = leases.fail(
                    taskID, worker: worker, attempt: Int(result.attempt), message: message, retryable: failure.retryable,
                    blamesPeer: blamesPeer)
                {
                    // Only the holder of the failed lease may blame its gang peers.
                    for suspect in failure.suspectedWorkers.prefix(64) where suspect != worker.rawValue { workers.suspect(WorkerID(suspect), now: now) }
                    logger.info("task failed", metadata: [
                        "task": "\(PrintableText.escaped(result.taskID))", "worker": "\(PrintableText.escaped(worker.rawValue))",
                        "why": "\(PrintableText.escaped(message, limit: 400))",
                        "suspects": "\(PrintableText.escaped(failure.suspectedWorkers.prefix(8).joined(separator: ",")))",
                    ])
                    apply([release])
                } else {
                    counters.increment(.resultsStaleAttempt)
                }
            case nil:
                logLimited(.warning, "result without an outcome dropped", worker: worker, why: result.taskID, key: "no-outcome")
            }
        }
        needsDispatch = true
    }

    private func completeTask(_ taskID: TaskID, attempt: Int, success: Orrery_V1_TaskSuccess, worker: WorkerID, nowMicros: Int64) {
        switch leases.complete(taskID, worker: worker, attempt: attempt, nowMicros: nowMicros) {
        case .accepted(let final, let roundTrip, let superseded):
            counters.increment(.tasksCompleted)
            workers.update(worker) {
                $0.tasksCompleted += 1
                $0.expiredInARow = 0
            }
            if let superseded { cancel([taskID], on: superseded, reason: "another worker finished it first") }
            if let key = final.cacheKey { recordCached(key, success) }
            guard let job = jobs[final.jobID] else { return }
            metrics.task(.completed, workload: job.workload)
            if let roundTrip {
                job.recordRoundTrip(roundTrip)
                metrics.roundTrip(microseconds: roundTrip, workload: job.workload)
            }
            let output = TaskOutput(metrics: success.metrics, payload: success.payload)
            deliver(TaskOutcome(key: final.key, result: .success(output), attempts: final.attempts, workerID: worker.rawValue), to: job)
        case .duplicate:
            counters.increment(.duplicateResults)
            jobs[taskID.job]?.duplicatesIgnored += 1
            if let job = jobs[taskID.job] { metrics.task(.duplicate, workload: job.workload) }
            logger.debug("duplicate result ignored", metadata: ["task": "\(PrintableText.escaped(taskID.wire))", "worker": "\(worker)"])
        case .unknown:
            counters.increment(.resultsUnknownTask)
            logger.debug("result for unknown task ignored", metadata: ["task": "\(PrintableText.escaped(taskID.wire))", "worker": "\(worker)"])
        case .staleAttempt:
            counters.increment(.resultsStaleAttempt)
            logLimited(.info, "result for an attempt the worker did not hold ignored", worker: worker,
                why: "task \(taskID) attempt \(attempt)", key: "stale")
        case .memberFinished:
            logger.debug("gang member finished", metadata: ["task": "\(taskID)", "worker": "\(worker)"])
        }
        cancelAbandoned()
    }

    /// Keeps the newest checkpoint of a task's current attempt; older attempts' are stale.
    func handleCheckpoint(_ message: Orrery_V1_Checkpoint, worker: WorkerID) {
        guard message.step <= UInt64(Int32.max) else {
            logLimited(.warning, "checkpoint refused", worker: worker,
                why: "step \(message.step) is beyond any a task commits (docs/wire.md)", key: "checkpoint-step")
            return
        }
        guard let taskID = TaskID(wire: message.taskID), leases.acceptsCheckpoint(taskID, worker: worker, attempt: Int(message.attempt)) else {
            logLimited(.info, "stale checkpoint dropped", worker: worker,
                why: "task \(message.taskID) attempt \(message.attempt)", key: "checkpoint")
            return
        }
        checkpoints.commit(taskID, .init(attempt: Int(message.attempt), step: message.step, data: message.data), logger: logger)
        recordCheckpoint(taskID, attempt: Int(message.attempt), step: message.step, data: message.data)
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
                recordRequeued(taskID)
                jobs[taskID.job]?.retries += 1
                needsDispatch = true
            case .failed(let final):
                guard let job = jobs[final.jobID] else { continue }
                let outcome = TaskOutcome(
                    key: final.key, result: .failure(final.failure ?? "failed"), attempts: final.attempts,
                    workerID: final.worker.rawValue)
                deliver(outcome, to: job)
            }
        }
        cancelAbandoned()
    }

    /// Hands one task's final outcome to its job's planner and queues what it plans next.
    func deliver(_ outcome: TaskOutcome, to job: Job) {
        guard job.isRunning, let planner = job.planner else { return }
        recordOutcome(outcome, job: job)
        if case .failure = outcome.result {
            job.tasksFailed += 1
            metrics.task(.failed, workload: job.workload)
        } else {
            job.tasksDone += 1
        }
        job.changedSinceUpdate = true
        enqueue(planner.consume(outcome), for: job)
        checkCompletion(job)
    }

    func enqueue(_ tasks: [PlannedTask], for job: Job) {
        guard !tasks.isEmpty else { return }
        let rejected = leases.enqueue(jobID: job.id, answerFromCache(tasks, job: job))
        recordPlanned(tasks, rejected: rejected, job: job)
        job.tasksPlanned += UInt64(tasks.count - rejected.count)
        if !rejected.isEmpty {
            fail(job, "the \(job.workload) planner produced duplicate task keys: \(rejected.prefix(3))")
        }
        needsDispatch = true
    }

    func checkCompletion(_ job: Job) {
        guard job.isRunning, let planner = job.planner else { return }
        let (queued, leased) = leases.counts(jobID: job.id)
        let idle = queued == 0 && leased == 0 && job.cachedAnswersPending == 0
        guard planner.isComplete || (idle && planner.failureReason != nil) else { return }
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
        let now = clock.milliseconds()
        for (worker, taskIDs) in leases.removeJob(job.id) {
            cancel(taskIDs, on: worker, reason: "job \(job.id) ended")
        }
        checkpoints.removeJob(job.id)
        job.finish(state, error: error, now: now)
        recordEnded(job)
        logger.info(
            "job ended",
            metadata: [
                "job": "\(job.id)", "state": "\(state)", "done": "\(job.tasksDone)", "failed": "\(job.tasksFailed)",
                "retries": "\(job.retries)", "error": "\(error)",
            ])
        sendUpdate(job, now: now)
        pruneFinishedJobs()
    }

    func cancel(_ taskIDs: [TaskID], on worker: WorkerID, reason: String) {
        guard let routingID = workers[worker]?.routingID, !taskIDs.isEmpty else { return }
        var message = Orrery_V1_Cancel()
        message.taskIds = taskIDs.map(\.wire)
        message.reason = reason
        send(.cancel(message), to: routingID)
    }

    func pruneFinishedJobs() {
        let finished = jobOrder.filter { jobs[$0]?.isRunning == false }
        for id in finished.dropLast(config.finishedJobsKept) {
            jobs[id] = nil
            jobOrder.removeAll { $0 == id }
        }
    }
}
