import Foundation
import Ledger
import Logging
import Runtime
import Wire
import Workloads

/// What the coordinator writes to its ledger, and how it rebuilds itself from it.
///
/// Records are appended as things happen and committed at the end of every turn and
/// before any reply to a client (see `send`), so a client is never told anything a crash
/// could take back, and what a worker was told before a crash is reconciled when it
/// registers again (`LeaseTable.restore`, `reattach`). A restarted coordinator rebuilds each unfinished job by building its planner
/// from the stored spec and replaying the job's outcomes in the order the planner first
/// received them (the `Planner` contract: the same outcomes give the same state), then
/// puts the job's open tasks back in the lease table, leased to the workers that held them
/// until those re-register.
extension CoordinatorCore {
    /// Wall-clock milliseconds, for what outlives this process (the monotonic clock does not).
    static var wallMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Recording

    func recordSubmitted(_ job: Job, spec: Orrery_V1_SubmitJob, number: Int) {
        ledger?.append(.jobSubmitted(LedgerJob(
            id: job.id.rawValue, number: number, name: job.name, workload: job.workload, specYAML: spec.specYaml,
            sourceName: spec.sourceName, submittedAt: Self.wallMilliseconds)))
    }

    func recordPlanned(_ tasks: [PlannedTask], rejected: [String], job: Job) {
        guard let ledger, !tasks.isEmpty else { return }
        let refused = Set(rejected)
        let open = tasks.filter { !refused.contains($0.key) }.map {
            LedgerTask(key: $0.key, payload: $0.payload, gang: $0.gang.map { ($0.minimum, $0.maximum) }, cacheKey: $0.cacheKey,
                preferredWorker: $0.preferredWorker, startsFrom: $0.startsFrom)
        }
        ledger.append(.tasksPlanned(jobID: job.id.rawValue, open))
    }

    /// A lease given out; `holder` is nil for a gang's (a gang is re-formed after a restart).
    func recordLeased(_ lease: LeaseTable.Lease, holder: WorkerID?) {
        guard let ledger, let task = leases.tasks[lease.taskID] else { return }
        ledger.append(.leased(jobID: task.jobID.rawValue, key: task.key, attempt: lease.attempt, holder: holder?.rawValue))
    }

    /// A task back in the queue without a result.
    func recordRequeued(_ taskID: TaskID) {
        guard let ledger, let task = leases.tasks[taskID] else { return }
        ledger.append(.requeued(jobID: task.jobID.rawValue, key: task.key, attempts: task.attempts, memberLosses: task.memberLosses))
    }

    /// A task's final outcome, numbered in the order its planner receives it.
    func recordOutcome(_ outcome: TaskOutcome, job: Job) {
        guard let ledger else { return }
        let sequence = Int(job.tasksDone + job.tasksFailed)
        switch outcome.result {
        case .success(let output):
            ledger.append(.outcome(LedgerOutcome(
                jobID: job.id.rawValue, sequence: sequence, key: outcome.key, failure: nil, metrics: output.metrics, payload: output.payload,
                attempts: outcome.attempts, worker: outcome.workerID)))
        case .failure(let message):
            ledger.append(.outcome(LedgerOutcome(
                jobID: job.id.rawValue, sequence: sequence, key: outcome.key, failure: message, metrics: [:], payload: Data(),
                attempts: outcome.attempts, worker: outcome.workerID)))
        }
    }

    func recordCheckpoint(_ taskID: TaskID, attempt: Int, step: UInt64, data: Data) {
        guard let ledger, let task = leases.tasks[taskID] else { return }
        ledger.append(.checkpoint(LedgerCheckpoint(jobID: task.jobID.rawValue, key: task.key, attempt: attempt, step: step, data: data)))
    }

    func recordEnded(_ job: Job) {
        ledger?.append(.jobEnded(LedgerJobEnd(
            jobID: job.id.rawValue, state: job.state.rawValue, error: job.error, finishedAt: Self.wallMilliseconds,
            tasksPlanned: job.tasksPlanned, tasksDone: job.tasksDone, tasksFailed: job.tasksFailed, retries: job.retries,
            duplicatesIgnored: job.duplicatesIgnored, reportText: job.report.text, reportJSON: job.report.json,
            reportFiles: job.report.files)))
    }

    /// Commits what was appended. A ledger that cannot be written stops the coordinator
    /// (nothing more is sent): going on would tell peers what a restart cannot know. The
    /// appended records stay pending, and `run` throws the error.
    @discardableResult
    func commitLedger() -> Bool {
        guard let ledger, ledger.hasPending, ledgerFailure == nil else { return ledgerFailure == nil }
        do {
            try ledger.commit()
            counters.increment(.ledgerCommits)
            return true
        } catch {
            logger.critical("ledger write failed; stopping", metadata: ["error": "\(error)"])
            ledgerFailure = error
            stopRequested = true
            return false
        }
    }

    /// Deletes a slice of ended jobs' outcome rows (their reports keep the result).
    func collectLedger() {
        guard let ledger, ledger.hasEndedJobsToCollect, ledgerFailure == nil else { return }
        do {
            try ledger.collectEndedJobs(budget: 10_000)
        } catch {
            logger.error("ledger clean-up failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Recovery

    /// Opens the state directory's ledger and rebuilds every job it holds.
    func openLedger(directory: String) throws {
        let ledger = try Ledger(directory: directory, durability: config.ledgerDurability, keepEndedJobs: config.ledgerKeepJobs)
        self.ledger = ledger
        if let id = try ledger.meta("coordinator_id") {
            coordinatorID = id
            logger[metadataKey: "coordinator"] = "\(coordinatorID)"
        } else {
            try ledger.setMeta("coordinator_id", coordinatorID)
        }
        let rows = try ledger.jobs()
        let now = clock.milliseconds()
        var resumed = 0
        for row in rows {
            nextJobNumber = max(nextJobNumber, row.job.number + 1)
            if let end = row.end {
                let job = Job(ended: row.job, end: end, now: now)
                jobs[job.id] = job
                jobOrder.append(job.id)
            } else {
                try resume(row, from: ledger, now: now)
                resumed += 1
            }
        }
        pruneFinishedJobs()
        try ledger.commit()  // jobs that could not be resumed are recorded as failed
        logger.notice("ledger opened", metadata: [
            "path": "\(ledger.path)", "jobs": "\(rows.count)", "resumed": "\(resumed)", "coordinator": "\(coordinatorID)",
        ])
    }

    /// How long a task restored as leased waits for its worker to re-register with it.
    var reattachMilliseconds: Int64 { max(10_000, 4 * config.liveness.timeoutMilliseconds) }

    private func resume(_ row: LedgerJobRow, from ledger: Ledger, now: Int64) throws {
        let record = row.job
        let validated: ValidatedJob
        do {
            validated = try JobSpec.parse(yaml: record.specYAML, source: record.sourceName, registry: registry)
        } catch {
            abandon(record, now: now, reason: "its spec no longer validates after a coordinator restart: \(error.description)")
            return
        }
        let job = Job(id: JobID(recorded: record.id), validated: validated, now: now - max(0, Self.wallMilliseconds - record.submittedAt))
        job.specYAML = record.specYAML
        guard let planner = job.planner else { return }
        // The planner is rebuilt by replaying what it received; the keys it plans on the
        // way must be exactly the open tasks the ledger holds, or it broke its contract.
        var replayed = Set(planner.start().map(\.key))
        var outcomes = 0
        try ledger.forEachOutcome(jobID: record.id) { stored in
            let result: TaskOutcome.Result = stored.failure.map { .failure($0) }
                ?? .success(TaskOutput(metrics: stored.metrics, payload: stored.payload))
            if stored.failure == nil { job.tasksDone += 1 } else { job.tasksFailed += 1 }
            replayed.remove(stored.key)
            outcomes += 1
            let outcome = TaskOutcome(key: stored.key, result: result, attempts: stored.attempts, workerID: stored.worker)
            for task in planner.consume(outcome) { replayed.insert(task.key) }
        }
        let open = try ledger.openTasks(jobID: record.id)
        let openKeys = Set(open.map(\.key))
        guard replayed == openKeys else {
            let missing = openKeys.subtracting(replayed).sorted().prefix(3)
            let extra = replayed.subtracting(openKeys).sorted().prefix(3)
            abandon(record, now: now, reason: "its \(record.workload) planner did not rebuild the same state from its \(outcomes) "
                + "outcomes (open in the ledger, not replanned: \(Array(missing)); replanned, not open: \(Array(extra)))")
            return
        }
        jobs[job.id] = job
        jobOrder.append(job.id)
        let spec = validated.spec
        leases.addJob(
            job.id,
            limits: .init(
                workload: spec.workload.kind, maxAttempts: spec.maxAttempts, timeoutMilliseconds: spec.taskTimeoutMilliseconds,
                maxInFlight: spec.maxInFlight))
        let nowMicros = clock.microseconds()
        for task in open {
            leases.restore(
                jobID: job.id, key: task.key, payload: task.payload, gang: task.gang.map { GangSize(minimum: $0.minimum, maximum: $0.maximum) },
                cacheKey: task.cacheKey, preferredWorker: task.preferredWorker.map { WorkerID($0) }, startsFrom: task.startsFrom, attempts: task.attempts, memberLosses: task.memberLosses, holder: task.holder.map { WorkerID($0) }, reattachBy: now + reattachMilliseconds,
                nowMicros: nowMicros)
        }
        for checkpoint in try ledger.checkpoints(jobID: record.id) {
            checkpoints.commit(
                TaskID(job: job.id, key: checkpoint.key), .init(attempt: checkpoint.attempt, step: checkpoint.step, data: checkpoint.data), logger: logger)
        }
        job.tasksPlanned = UInt64(outcomes + open.count)
        let points = try ledger.scalars(jobID: record.id)
        for point in points { job.curves.restore(point) }
        job.storedPoints = points.count
        logger.notice("job resumed", metadata: [
            "job": "\(job.id)", "outcomes": "\(outcomes)", "open": "\(open.count)",
            "held": "\(open.filter { $0.holder != nil && $0.gang == nil }.count)",
        ])
        needsDispatch = true
        checkCompletion(job)
    }

    /// Records as failed a job that cannot be resumed, and keeps it for `status`.
    private func abandon(_ record: LedgerJob, now: Int64, reason: String) {
        logger.error("job not resumed", metadata: ["job": "\(record.id)", "why": "\(reason)"])
        let end = LedgerJobEnd(
            jobID: record.id, state: Orrery_V1_JobState.failed.rawValue, error: reason, finishedAt: Self.wallMilliseconds,
            tasksPlanned: 0, tasksDone: 0, tasksFailed: 0, retries: 0, duplicatesIgnored: 0, reportText: "", reportJSON: "",
            reportFiles: [:])
        ledger?.append(.jobEnded(end))
        let job = Job(ended: record, end: end, now: now)
        jobs[job.id] = job
        jobOrder.append(job.id)
    }

    /// A job the coordinator no longer keeps in memory, read back from the ledger.
    func archivedJob(_ id: JobID) -> Job? {
        guard let ledger, let row = try? ledger.job(id.rawValue), let end = row.end else { return nil }
        return Job(ended: row.job, end: end, now: clock.milliseconds())
    }
}
