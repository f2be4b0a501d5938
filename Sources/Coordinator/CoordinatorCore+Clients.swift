import Foundation
import Runtime
import Wire
import Workloads

extension CoordinatorCore {
    func handleSubmit(_ message: Orrery_V1_SubmitJob, from client: [UInt8]) {
        guard !draining else {
            reject(client, .rejectDraining, "coordinator \(coordinatorID) is shutting down and takes no new jobs")
            return
        }
        let running = jobs.values.lazy.filter(\.isRunning).count
        guard running < config.maxRunningJobs else {
            reject(client, .rejectTooManyJobs, "coordinator \(coordinatorID) runs \(running) jobs, its limit; submit again when one ends")
            return
        }
        let source = message.sourceName.isEmpty ? "<spec>" : PrintableText.escaped(message.sourceName, limit: 200)
        let validated: ValidatedJob
        do {
            validated = try JobSpec.parse(yaml: message.specYaml, source: source, registry: registry)
        } catch {
            logLimited(.info, "job spec rejected", from: client, why: error.description, key: "spec")
            reject(client, .rejectInvalidSpec, error.description.truncated(toBytes: WireLimits.maximumNoteBytes))
            return
        }
        // The first batch a job plans must fit beside everything already held.
        let planned = validated.planner.start()
        let held = leases.tasks.count - leases.removalBacklog  // ended jobs' tasks are on their way out
        guard held + planned.count <= config.maxHeldTasks else {
            reject(client, .rejectTooManyJobs,
                "the job plans \(planned.count) tasks at once and coordinator \(coordinatorID) holds \(held) of at most "
                    + "\(config.maxHeldTasks); submit it when running jobs have ended, or plan fewer tasks at once")
            return
        }
        let now = clock.milliseconds()
        let id = JobID(coordinatorSuffix: coordinatorID.dropFirst(6), number: nextJobNumber)
        let job = Job(id: id, validated: validated, now: now)
        job.specYAML = message.specYaml
        recordSubmitted(job, spec: message, number: nextJobNumber)
        nextJobNumber += 1
        jobs[id] = job
        jobOrder.append(id)
        let spec = validated.spec
        leases.addJob(
            id,
            limits: .init(
                workload: spec.workload.kind, maxAttempts: spec.maxAttempts,
                timeoutMilliseconds: spec.taskTimeoutMilliseconds, maxInFlight: spec.maxInFlight))
        if message.watch { job.watchers.append(client) }
        // The job and its first tasks are committed together before the client hears of it.
        enqueue(planned, for: job)
        var accepted = Orrery_V1_JobAccepted()
        accepted.jobID = id.rawValue
        send(.jobAccepted(accepted), to: client)
        logger.info("job accepted", metadata: ["job": "\(id)", "name": "\(spec.name)", "workload": "\(spec.workload.kind)"])
        checkCompletion(job)
        if leases.counts(jobID: id).queued > 0 && !workers.workers.values.contains(where: { $0.capabilities.contains(spec.workload.kind) }) {
            logger.warning("no registered worker can run this job's workload yet", metadata: ["job": "\(id)", "workload": "\(spec.workload.kind)"])
        }
    }

    /// The job a client names, running or ended; the wire's string becomes a `JobID` here.
    func job(named raw: String) -> Job? {
        guard let id = JobID(raw) else { return nil }
        return jobs[id] ?? archivedJob(id)
    }

    func handleWatch(_ message: Orrery_V1_WatchJob, from client: [UInt8]) {
        guard let job = job(named: message.jobID) else {
            reject(client, .rejectUnknownJob, "no job '\(PrintableText.escaped(message.jobID, limit: 80))' on coordinator \(coordinatorID)")
            return
        }
        if !message.once && job.isRunning && !job.watchers.contains(client) && job.watchers.count < Job.maximumWatchers {
            job.watchers.append(client)
        }
        // A one-off look (`orrery status JOB`) has no use for the curves.
        sendUpdate(job, to: [client], now: clock.milliseconds(), points: !message.once)
    }

    /// Past and present jobs, newest first: the ledger's, or those in memory without one.
    /// Replies carry no reports, so even 10,000 jobs stay a small frame.
    func handleListJobs(_ message: Orrery_V1_ListJobs, from client: [UInt8]) {
        send(.jobList(jobList(limit: message.limit == 0 ? 100 : Int(min(message.limit, 10_000)))), to: client)
    }

    /// The newest `limit` jobs, running and ended, newest first, without reports.
    func jobList(limit: Int) -> Orrery_V1_JobList {
        let now = clock.milliseconds()
        var list = Orrery_V1_JobList()
        if let ledger, let (rows, total) = try? ledger.recentJobs(limit: limit) {
            list.total = UInt64(total)
            // Every running job is in memory (resumed at start); ended ones may be only on disk.
            list.jobs = rows.compactMap { row in
                if let job = jobs[JobID(recorded: row.job.id)] { return jobInfo(job, now: now, detail: .summary) }
                return row.end.map { Job(ended: row.job, end: $0, now: now).info(queued: 0, running: 0, now: now, detail: .summary) }
            }
        } else {
            list.total = UInt64(jobOrder.count)
            list.jobs = jobOrder.reversed().prefix(limit).compactMap { jobs[$0] }.map { jobInfo($0, now: now, detail: .summary) }
        }
        return list
    }

    func handleCancel(_ message: Orrery_V1_CancelJob, from client: [UInt8]) {
        guard let job = job(named: message.jobID) else {
            reject(client, .rejectUnknownJob, "no job '\(PrintableText.escaped(message.jobID, limit: 80))' on coordinator \(coordinatorID)")
            return
        }
        if job.isRunning {
            if !job.watchers.contains(client) && job.watchers.count < Job.maximumWatchers { job.watchers.append(client) }
            end(job, .cancelled, error: "cancelled by a client")
        } else {
            sendUpdate(job, to: [client], now: clock.milliseconds())
        }
    }

    /// Answers a status request. A reply lists every worker and job, so building one costs
    /// far more than asking: replies are built fresh while requests are few (at most
    /// `statusBuilds`: 50 a second after a burst of 20), and past that the last reply's bytes are sent
    /// again, so a flood of status requests costs the loop a send each, not a build each.
    func handleStatus(from client: [UInt8]) {
        let now = clock.milliseconds()
        if let cached = statusReply, !statusBuilds.take(now: now) {
            send(frame: cached, to: client)
            return
        }
        let frame = EnvelopeCodec.encode(.clusterStatus(clusterStatus(now: now)))
        statusReply = frame
        send(frame: frame, to: client)
    }

    func clusterStatus(now: Int64) -> Orrery_V1_ClusterStatus {
        var status = Orrery_V1_ClusterStatus()
        status.coordinatorID = coordinatorID
        status.draining = draining
        status.counters = counters.wire
        if let security = securityCounts?() {
            status.counters.curveRefused = UInt64(security.refused)
            status.counters.curveAdmitted = UInt64(security.admitted)
        }
        status.workers = workers.order.compactMap { id in
            guard let worker = workers[id] else { return nil }
            var info = Orrery_V1_WorkerInfo()
            info.workerID = id.rawValue
            info.hostname = worker.registration.hostname
            info.pid = worker.registration.pid
            info.cores = worker.registration.cores
            info.slots = worker.registration.slots
            info.runningTasks = UInt32(leases.leaseCount(worker: id))
            info.tasksCompleted = worker.tasksCompleted
            info.msSinceHeard = UInt64(max(0, now - worker.lastHeard))
            info.capabilities = worker.registration.capabilities
            info.agent = worker.registration.agent
            info.dataEndpoint = worker.registration.dataEndpoint
            return info
        }
        status.jobs = jobOrder.compactMap { jobs[$0] }.map { jobInfo($0, now: now, detail: .summary) }
        return status
    }

    func jobInfo(_ job: Job, now: Int64, detail: Job.Detail = .full) -> Orrery_V1_JobInfo {
        let (queued, leased) = leases.counts(jobID: job.id)
        return job.info(queued: queued, running: leased, now: now, detail: detail)
    }

    /// Progress for watchers, at most every `updateIntervalMilliseconds`, and at least every
    /// heartbeat interval even when nothing changed, so a client can tell a silent
    /// coordinator from a slow job.
    func sendWatcherUpdates(now: Int64) {
        for job in jobs.values where job.isRunning && !job.watchers.isEmpty {
            let due = job.changedSinceUpdate
                ? now - job.lastUpdateSent >= Int64(config.updateIntervalMilliseconds)
                : now - job.lastUpdateSent >= Int64(config.liveness.intervalMilliseconds)
            if due { sendUpdate(job, now: now) }
        }
    }

    func sendUpdate(_ job: Job, to peers: [[UInt8]]? = nil, now: Int64, points: Bool = true) {
        let targets = peers ?? job.watchers
        guard !targets.isEmpty else { return }
        var update = Orrery_V1_JobUpdate()
        update.job = jobInfo(job, now: now)
        if points { update.points = job.curvePoints(since: peers == nil ? job.curvesBroadcastUpTo : 0) }
        let frame = EnvelopeCodec.encode(.jobUpdate(update))
        guard commitLedger() else { return }  // an update is something a client is told
        for peer in targets {
            // A watcher that cannot be reached is dropped (when the loop says so).
            send(frame: frame, to: peer, ifUndelivered: peers == nil && job.isRunning ? .watcher(jobID: job.id, peer: peer) : .nothing)
        }
        if peers == nil {
            job.curvesBroadcastUpTo = job.curves.lastSequence
            job.lastUpdateSent = now
            job.changedSinceUpdate = false
            if !job.isRunning { job.watchers = [] }
        }
    }
}
