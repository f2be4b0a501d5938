import Foundation
import Runtime
import Workloads

/// Every task the coordinator knows, and who holds a lease on it: the heart of "nothing is
/// lost and nothing is counted twice".
///
/// A pure state machine over time values it is given, with no sockets or clocks of its
/// own, so that each rule is tested alone:
/// - a task is queued, leased to one worker for one attempt, or finished;
/// - the first result for a task finishes it; any later one is a duplicate and is ignored;
/// - a lease whose worker dies or whose deadline passes goes back to the queue, until the
///   job's maximum number of attempts, and then the task fails with the reason;
/// - jobs take turns: leases are drawn round-robin over jobs with queued work;
/// - a gang task is leased to several workers at once, one rank each; it finishes with its
///   leader's (rank 0's) result, and when any member fails or dies the whole gang is
///   released, its other members are listed in `abandoned` to be cancelled, and the task
///   is queued for a new gang.
struct LeaseTable {
    /// What a job allows its tasks.
    struct JobLimits {
        let workload: String
        let maxAttempts: Int
        /// 0: no deadline.
        let timeoutMilliseconds: Int
        /// 0: no limit.
        let maxInFlight: Int
    }

    enum TaskState: Equatable {
        case queued
        case leased(worker: WorkerID, deadline: Int64, sentAtMicros: Int64)
        case finished
    }

    struct Task {
        let id: TaskID
        let jobID: JobID
        let key: String
        let payload: Data
        let gang: GangSize?
        /// Where a success goes in the cross-job cache.
        let cacheKey: String?
        /// The worker its first attempt goes to when that worker can start it at once.
        var preferredWorker: WorkerID? = nil
        /// The task of the same job whose checkpoint it continues (`PlannedTask.startsFrom`).
        var startsFrom: TaskID? = nil
        var attempts = 0
        var state = TaskState.queued
        /// Why the last attempt ended without a result, for the final failure message.
        var lastFailure: String?
        /// A gang task's members in rank order (the leader, who holds the lease, first), for
        /// its current or last attempt; empty for other tasks.
        var members: [WorkerID] = []
        /// When a queued gang task was first seen with too few free workers for its maximum.
        var waitingSince: Int64?
        /// Attempts that ended because a gang member died or left, or because the
        /// coordinator restarted while the task was leased, not because the task failed:
        /// they do not count against the job's `max_attempts`.
        var memberLosses = 0
        /// The worker that held each attempt (for a gang: its leader), so that a result is
        /// accepted only from the worker that held the attempt it names.
        var leaders: [WorkerID?] = []
        /// Restored from the ledger as leased to a worker that has not re-attached since the
        /// coordinator restarted (see `restore` and `reattach`).
        var awaitingHolder = false
        /// Restored from the ledger: its holder may name a later attempt than the ledger
        /// recorded (see `adoptUnrecordedAttempt`).
        var restored = false

        /// Whether `worker` held attempt `attempt` of this task (as a gang's leader).
        func held(_ attempt: Int, by worker: WorkerID) -> Bool {
            attempt >= 1 && attempt <= leaders.count && leaders[attempt - 1] == worker
        }

        /// Everyone holding this task's current lease.
        func holders(leader: WorkerID) -> [WorkerID] { members.isEmpty ? [leader] : members }
    }

    /// A gang task leased to its members: one lease per member, with its rank.
    struct GangLease: Equatable {
        let lease: Lease
        let members: [WorkerID]
    }

    /// A lease to send: the task's wire id, its job and payload, and the attempt number.
    struct Lease: Equatable {
        let taskID: TaskID
        let jobID: JobID
        let workload: String
        let payload: Data
        let attempt: Int
        let deadlineMilliseconds: Int
        /// The task whose newest checkpoint goes with this lease when the task has none of
        /// its own: set for a task that continues another, leased to a worker other than
        /// the one it prefers (which holds that state itself).
        var checkpointFrom: TaskID? = nil
    }

    /// The final word on a task, for its job's planner.
    struct Final: Equatable {
        let jobID: JobID
        let key: String
        let attempts: Int
        /// nil for success (the caller has the output); the reason for a failure.
        let failure: String?
        let worker: WorkerID
        var cacheKey: String? = nil
    }

    enum Completion: Equatable {
        /// The first result: pass it on. `supersededHolder` holds the task under a newer lease
        /// and should be told to cancel it.
        case accepted(Final, roundTripMicros: Int64?, supersededHolder: WorkerID?)
        case duplicate
        /// No such task: never leased, or its job is gone.
        case unknown
        /// The sender never held the attempt the result names (attempt 6 of a task leased
        /// once, or an attempt leased to someone else): ignored, counted apart.
        case staleAttempt
        /// A result from a gang member other than the leader: its part is done, the task is not.
        case memberFinished
    }

    enum Release: Equatable {
        case requeued(taskID: TaskID)
        case failed(Final)
    }

    private(set) var tasks: [TaskID: Task] = [:]
    private var queues: [JobID: FIFO<TaskID>] = [:]
    private var limits: [JobID: JobLimits] = [:]
    private var jobOrder: [JobID] = []
    private var cursor = 0
    private(set) var inFlightByJob: [JobID: Int] = [:]
    private(set) var leasesByWorker: [WorkerID: Set<TaskID>] = [:]
    private(set) var queuedCount = 0
    /// Non-gang tasks queued, per job (they sum to `queuedCount`).
    private var queuedByJob: [JobID: Int] = [:]
    /// The task ids each job holds here, so that a job's end touches only its own tasks.
    private var taskIDsByJob: [JobID: Set<TaskID>] = [:]
    /// The most recent tasks to finish, which left `tasks` when they did: a late result
    /// for one of them (a superseded holder's) is a duplicate, not an unknown task. Older
    /// ones are forgotten, so memory does not grow with a job's finished tasks.
    private var recentlyFinished = RecentSet(capacity: 65_536)
    /// Who finished each recent task, with the attempt: the one sender whose checkpoint of
    /// the finished task is still taken (a final state sent after its result, for the task
    /// that continues it).
    private var finishers = RecentMap<TaskID, (worker: WorkerID, attempt: Int)>(capacity: 65_536)
    /// Task ids of ended jobs still to be deleted, a slice per turn of the loop
    /// (`collectRemoved`), so that ending a job of millions of tasks never stalls it.
    private var removals = FIFO<[TaskID]>()
    /// Tasks waiting in `removals`.
    private(set) var removalBacklog = 0
    /// Queued tasks that prefer a worker, by that worker, in the order they were queued
    /// (entries of tasks leased since through the job's queue are skipped when reached).
    private var preferred: [WorkerID: FIFO<TaskID>] = [:]
    /// Whether any queued task may prefer a worker (so `dispatch` skips the pass when none).
    var hasPreferredTasks: Bool { !preferred.isEmpty }
    /// Gang tasks waiting for enough free workers, in the order they were queued.
    private var gangQueue: [TaskID] = []
    var queuedGangCount: Int { gangQueue.count }
    /// Gang members whose gang was released because of someone else: they must be told to
    /// stop. Taken (and emptied) by `takeAbandoned`.
    private(set) var abandoned: [(worker: WorkerID, taskID: TaskID)] = []

    // MARK: Jobs and tasks

    mutating func addJob(_ jobID: JobID, limits: JobLimits) {
        self.limits[jobID] = limits
        queues[jobID] = FIFO()
        inFlightByJob[jobID] = 0
        jobOrder.append(jobID)
    }

    /// Queues a job's new tasks. A key the job already used is returned, not queued.
    @discardableResult
    mutating func enqueue(jobID: JobID, _ planned: [PlannedTask]) -> [String] {
        var rejected: [String] = []
        for task in planned {
            let id = TaskID(job: jobID, key: task.key)
            guard tasks[id] == nil else {
                rejected.append(task.key)
                continue
            }
            tasks[id] = Task(
                id: id, jobID: jobID, key: task.key, payload: task.payload, gang: task.gang, cacheKey: task.cacheKey,
                preferredWorker: task.preferredWorker.map { WorkerID($0) }, startsFrom: task.startsFrom.map { TaskID(job: jobID, key: $0) })
            taskIDsByJob[jobID, default: []].insert(id)
            queue(id, gang: task.gang != nil)
        }
        return rejected
    }

    /// Forgets a job; returns the leases still out, by worker, so they can be cancelled.
    ///
    /// The job stops at once (nothing of it is leased again, a result for it is unknown),
    /// but its tasks leave memory a slice at a time through `collectRemoved`.
    mutating func removeJob(_ jobID: JobID) -> [WorkerID: [TaskID]] {
        var outstanding: [WorkerID: [TaskID]] = [:]
        for (worker, ids) in leasesByWorker {
            for id in ids where tasks[id]?.jobID == jobID { outstanding[worker, default: []].append(id) }
        }
        for (worker, ids) in outstanding {
            for id in ids {
                leasesByWorker[worker]?.remove(id)
                tasks[id]?.state = .finished
            }
            if leasesByWorker[worker]?.isEmpty == true { leasesByWorker[worker] = nil }
        }
        queuedCount -= queuedByJob.removeValue(forKey: jobID) ?? 0
        gangQueue.removeAll { tasks[$0]?.jobID == jobID }
        if let ids = taskIDsByJob.removeValue(forKey: jobID) {
            removals.push(Array(ids))
            removalBacklog += ids.count
        }
        queues[jobID] = nil
        limits[jobID] = nil
        inFlightByJob[jobID] = nil
        if let index = jobOrder.firstIndex(of: jobID) {
            jobOrder.remove(at: index)
            if cursor > index { cursor -= 1 }
            if cursor >= jobOrder.count { cursor = 0 }
        }
        return outstanding
    }

    /// Deletes up to `budget` tasks of ended jobs; returns how many it deleted.
    @discardableResult
    mutating func collectRemoved(budget: Int) -> Int {
        var deleted = 0
        while deleted < budget, var ids = removals.pop() {
            let take = min(budget - deleted, ids.count)
            for id in ids.suffix(take) { tasks[id] = nil }
            ids.removeLast(take)
            deleted += take
            if !ids.isEmpty { removals.pushFront(ids) }
        }
        removalBacklog -= deleted
        if removalBacklog == 0 && tasks.isEmpty { tasks = [:] }  // give a drained table's capacity back
        return deleted
    }

    func counts(jobID: JobID) -> (queued: Int, leased: Int) {
        let gangs = gangQueue.isEmpty ? 0 : gangQueue.filter { tasks[$0]?.jobID == jobID }.count
        return ((queues[jobID]?.count ?? 0) + gangs, inFlightByJob[jobID] ?? 0)
    }

    /// Whether a checkpoint for `taskID` from `worker` belongs to the task's current lease
    /// (the leader of its current attempt), or, once the task is finished, to the attempt
    /// that finished it (a final state sent after the result, `TaskOutput.finalCheckpoint`);
    /// checkpoints from other attempts, and of ended jobs, are stale.
    func acceptsCheckpoint(_ taskID: TaskID, worker: WorkerID, attempt: Int) -> Bool {
        if let finisher = finishers[taskID] {
            return finisher.worker == worker && finisher.attempt == attempt && limits[taskID.job] != nil
        }
        guard let task = tasks[taskID], case .leased(let leader, _, _) = task.state else { return false }
        return leader == worker && task.attempts == attempt
    }

    /// The gang members to cancel since the last call.
    mutating func takeAbandoned() -> [(worker: WorkerID, taskID: TaskID)] {
        defer { abandoned.removeAll() }
        return abandoned
    }

    /// Whether `worker` holds a lease on `taskID` now (as its holder or a gang member).
    func isHeld(_ taskID: TaskID, by worker: WorkerID) -> Bool { leasesByWorker[worker]?.contains(taskID) ?? false }

    func leaseCount(worker: WorkerID) -> Int { leasesByWorker[worker]?.count ?? 0 }

    var leasedCount: Int { inFlightByJob.values.reduce(0, +) }

    // MARK: Restart

    /// Puts back an open task read from the ledger after a restart. A task whose lease was
    /// held by one worker stays leased to it until `reattachBy` (its worker re-registers
    /// listing it, and keeps it: `reattach`), and goes back to the queue if that worker
    /// does not come back in time; every other task (a gang's: its ring is gone) is queued.
    mutating func restore(
        jobID: JobID, key: String, payload: Data, gang: GangSize?, cacheKey: String?, preferredWorker: WorkerID? = nil, startsFrom: String? = nil,
        attempts: Int,
        memberLosses: Int, holder: WorkerID?, reattachBy deadline: Int64, nowMicros: Int64
    ) {
        let id = TaskID(job: jobID, key: key)
        guard tasks[id] == nil else { return }
        var task = Task(
            id: id, jobID: jobID, key: key, payload: payload, gang: gang, cacheKey: cacheKey, preferredWorker: preferredWorker,
            startsFrom: startsFrom.map { TaskID(job: jobID, key: $0) })
        task.attempts = attempts
        task.memberLosses = memberLosses
        taskIDsByJob[jobID, default: []].insert(id)
        // Who held the attempts before is not recorded: their slots stay empty.
        task.leaders = Array(repeating: nil, count: attempts)
        task.restored = true
        guard let holder, gang == nil, attempts >= 1 else {
            tasks[id] = task
            queue(id, gang: gang != nil)
            return
        }
        // Only the last attempt's holder is known; earlier attempts cannot be reported.
        task.leaders[attempts - 1] = holder
        task.state = .leased(worker: holder, deadline: deadline, sentAtMicros: nowMicros)
        task.awaitingHolder = true
        tasks[id] = task
        inFlightByJob[jobID, default: 0] += 1
        leasesByWorker[holder, default: []].insert(id)
    }

    /// A worker re-registered after a restart: the restored leases it still holds get the
    /// job's own deadline instead of the re-attach one.
    mutating func reattach(_ worker: WorkerID, now: Int64) {
        for id in leasesByWorker[worker] ?? [] {
            guard var task = tasks[id], task.awaitingHolder, case .leased(let holder, _, let sentAt) = task.state else { continue }
            let timeout = limits[task.jobID]?.timeoutMilliseconds ?? 0
            task.awaitingHolder = false
            task.state = .leased(worker: holder, deadline: timeout > 0 ? now + Int64(timeout) : 0, sentAtMicros: sentAt)
            tasks[id] = task
        }
    }

    /// After a restart a task's lease history is known only from the ledger's last commit:
    /// which worker holds the latest attempt it recorded, not who held the ones before, and
    /// nothing of a lease the old coordinator sent but died before committing. So a result
    /// for a restored task is taken as held when it comes from the worker the ledger says
    /// holds it (whatever attempt it names: the worker answered for the task, and would
    /// otherwise keep a lease it no longer works on), or names a later attempt than the
    /// ledger recorded (the uncommitted lease, the newest there was).
    private mutating func adoptUnrecordedAttempt(_ taskID: TaskID, worker: WorkerID, attempt: Int) {
        guard var task = tasks[taskID], task.restored, attempt >= 1, attempt <= task.attempts + 1_000, !task.held(attempt, by: worker)
        else { return }
        let holdsIt: Bool
        switch task.state {
        case .leased(let holder, _, _): holdsIt = holder == worker
        case .queued: holdsIt = false
        case .finished: return
        }
        if attempt > task.attempts {
            task.leaders += Array(repeating: nil, count: attempt - task.attempts - 1) + [worker]
            task.attempts = attempt
        } else if holdsIt && task.leaders[attempt - 1] == nil {
            task.leaders[attempt - 1] = worker
        } else {
            return
        }
        tasks[taskID] = task
    }

    // MARK: Leasing

    /// Leases up to `limit` queued tasks that `worker` can run, taking jobs in turn.
    mutating func lease(
        to worker: WorkerID, capabilities: Set<String>, limit: Int, now: Int64, nowMicros: Int64
    ) -> [Lease] {
        guard limit > 0, queuedCount > 0, !jobOrder.isEmpty else { return [] }
        var leases: [Lease] = []
        var idleJobs = 0
        while leases.count < limit && idleJobs < jobOrder.count {
            let jobID = jobOrder[cursor]
            cursor = (cursor + 1) % jobOrder.count
            guard let lease = leaseOne(jobID: jobID, to: worker, capabilities: capabilities, now: now, nowMicros: nowMicros)
            else {
                idleJobs += 1
                continue
            }
            idleJobs = 0
            leases.append(lease)
            // Drain a job in runs rather than one task per turn: fewer passes, same fairness.
            var run = 1
            while leases.count < limit, run < 64,
                let next = leaseOne(jobID: jobID, to: worker, capabilities: capabilities, now: now, nowMicros: nowMicros)
            {
                leases.append(next)
                run += 1
            }
        }
        return leases
    }

    private mutating func leaseOne(
        jobID: JobID, to worker: WorkerID, capabilities: Set<String>, now: Int64, nowMicros: Int64
    ) -> Lease? {
        guard let limits = limits[jobID], capabilities.contains(limits.workload) else { return nil }
        if limits.maxInFlight > 0 && inFlightByJob[jobID, default: 0] >= limits.maxInFlight { return nil }
        while let id = queues[jobID]?.pop() {
            guard let task = tasks[id], task.state == .queued else { continue }
            return take(task, to: worker, limits: limits, now: now, nowMicros: nowMicros)
        }
        return nil
    }

    /// Leases up to `limit` of the queued tasks that prefer `worker` (and that it can run),
    /// oldest first, whatever job they belong to: the first pass of a dispatch, so that such
    /// a task goes to its worker whenever that worker can start it at once.
    mutating func leasePreferred(
        to worker: WorkerID, capabilities: Set<String>, limit: Int, now: Int64, nowMicros: Int64
    ) -> [Lease] {
        guard limit > 0, var waiting = preferred.removeValue(forKey: worker) else { return [] }
        var leases: [Lease] = []
        var kept = FIFO<TaskID>()
        while let id = waiting.pop() {
            // Gone: leased through its job's queue, retried, or its job ended.
            guard let task = tasks[id], task.state == .queued, task.attempts == 0, let limits = limits[task.jobID] else { continue }
            guard leases.count < limit, capabilities.contains(limits.workload),
                limits.maxInFlight == 0 || inFlightByJob[task.jobID, default: 0] < limits.maxInFlight
            else {
                kept.push(id)
                continue
            }
            leases.append(take(task, to: worker, limits: limits, now: now, nowMicros: nowMicros))
        }
        if !kept.isEmpty { preferred[worker] = kept }
        return leases
    }

    /// Forgets which queued tasks prefer `worker` (it died or left: what it held is gone);
    /// they stay queued for anyone.
    mutating func forgetPreferences(of worker: WorkerID) {
        preferred[worker] = nil
    }

    /// Leases the queued `task` to `worker` (it stays in its job's queue, to be skipped there).
    private mutating func take(_ queued: Task, to worker: WorkerID, limits: JobLimits, now: Int64, nowMicros: Int64) -> Lease {
        var task = queued
        adjustQueued(task.jobID, by: -1)
        task.attempts += 1
        task.leaders.append(worker)
        let deadline = limits.timeoutMilliseconds > 0 ? now + Int64(limits.timeoutMilliseconds) : 0
        task.state = .leased(worker: worker, deadline: deadline, sentAtMicros: nowMicros)
        tasks[task.id] = task
        inFlightByJob[task.jobID, default: 0] += 1
        leasesByWorker[worker, default: []].insert(task.id)
        return Lease(
            taskID: task.id, jobID: task.jobID, workload: limits.workload, payload: task.payload, attempt: task.attempts,
            deadlineMilliseconds: limits.timeoutMilliseconds, checkpointFrom: task.preferredWorker == worker ? nil : task.startsFrom)
    }

    /// Takes back leases that never reached their worker (the send failed): they return to
    /// the front of their queues and the attempt does not count.
    mutating func unlease(_ taskIDs: [TaskID]) {
        for id in taskIDs.reversed() {
            guard var task = tasks[id], case .leased(let worker, _, _) = task.state else { continue }
            task.attempts -= 1
            task.leaders.removeLast()
            task.state = .queued
            tasks[id] = task
            for holder in task.holders(leader: worker) { leasesByWorker[holder]?.remove(id) }
            inFlightByJob[task.jobID, default: 1] -= 1
            if task.gang != nil {
                gangQueue.insert(id, at: 0)
            } else {
                queues[task.jobID]?.pushFront(id)
                adjustQueued(task.jobID, by: 1)
            }
        }
    }

    // MARK: Outcomes

    /// A success reported by `worker` for attempt `attempt`.
    ///
    /// The first result of an attempt the sender held finishes the task, even when a newer
    /// lease is out (a slow worker's late answer is as good as any); a result naming an
    /// attempt the sender never held is `staleAttempt`.
    mutating func complete(_ taskID: TaskID, worker: WorkerID, attempt: Int, nowMicros: Int64) -> Completion {
        adoptUnrecordedAttempt(taskID, worker: worker, attempt: attempt)
        guard let task = tasks[taskID], limits[task.jobID] != nil else {
            return recentlyFinished.contains(taskID) ? .duplicate : .unknown
        }
        let isCurrentMember = task.gang != nil && attempt == task.attempts && task.members.contains(worker)
        // After a restart, a success from the worker holding the task's lease counts for any
        // attempt the task had: every attempt runs the same payload, and the holder may never
        // have received its newest lease (a frame lost with the coordinator that died), so
        // it answers for an older one, and would otherwise keep a lease it never works on.
        var isCurrentHolder = false
        if task.restored, task.gang == nil, (1...max(1, task.attempts)).contains(attempt), case .leased(let holder, _, _) = task.state {
            isCurrentHolder = holder == worker
        }
        guard task.held(attempt, by: worker) || isCurrentMember || isCurrentHolder else { return .staleAttempt }
        var roundTrip: Int64?
        var superseded: WorkerID?
        switch task.state {
        case .finished:
            return isCurrentMember && task.leaders.last != worker ? .memberFinished : .duplicate
        case .queued:
            if task.gang == nil {
                adjustQueued(task.jobID, by: -1)  // its stale FIFO entry is skipped when popped
            } else {
                gangQueue.removeAll { $0 == taskID }
            }
        case .leased(let holder, _, let sentAt):
            if isCurrentMember && holder != worker {
                leasesByWorker[worker]?.remove(taskID)  // this member is done; the leader reports
                return .memberFinished
            }
            dropLease(task, holder: holder)
            if holder == worker && attempt == task.attempts {
                roundTrip = nowMicros - sentAt
            } else if holder != worker {
                superseded = holder
            }
            if task.gang != nil && superseded != nil {
                abandoned += task.members.filter { $0 != worker }.map { ($0, taskID) }
            }
        }
        finish(task)
        finishers.set(taskID, (worker, attempt))
        let final = Final(jobID: task.jobID, key: task.key, attempts: task.attempts, failure: nil, worker: worker, cacheKey: task.cacheKey)
        return .accepted(final, roundTripMicros: roundTrip, supersededHolder: superseded)
    }

    /// A failure reported by `worker` for its current lease. Retryable failures go back to
    /// the queue while attempts remain.
    ///
    /// - Parameter attempt: the attempt the failure belongs to; a failure of an earlier one
    ///   says nothing about the current lease (for a gang: about its new ring).
    /// - Parameter blamesPeer: the failure names another member of the gang (it died or
    ///   went silent): a member loss, which does not use up an attempt.
    mutating func fail(
        _ taskID: TaskID, worker: WorkerID, attempt: Int? = nil, message: String, retryable: Bool, blamesPeer: Bool = false
    ) -> Release? {
        if let attempt { adoptUnrecordedAttempt(taskID, worker: worker, attempt: attempt) }
        guard let task = tasks[taskID], case .leased(let holder, _, _) = task.state,
            task.holders(leader: holder).contains(worker), attempt.map({ $0 == task.attempts || (task.restored && task.held($0, by: worker)) }) ?? true
        else {
            return nil  // a failure from an old lease says nothing about the current one
        }
        return release(taskID, reason: message, retryable: retryable, responsible: worker, memberLoss: blamesPeer)
    }

    /// Leases given to `worker` (not gang tasks) that it says it does not hold: they go back
    /// to the queue without using an attempt (their frames were lost, not the task).
    mutating func releaseLost(_ worker: WorkerID, reason: String) -> [Release] {
        let held = (leasesByWorker[worker] ?? []).filter { tasks[$0]?.gang == nil }
        return held.sorted().compactMap {
            tasks[$0]?.awaitingHolder = true  // forgiven, as a lease lost to a restart is
            return release($0, reason: reason, retryable: true, responsible: worker)
        }
    }

    /// Returns every lease `worker` holds, except those in `keeping`, to the queue. For a
    /// gang task this is a member loss: the gang is re-formed without using up an attempt.
    mutating func releaseWorker(_ worker: WorkerID, reason: String, keeping: Set<TaskID> = []) -> [Release] {
        let held = leasesByWorker[worker] ?? []
        return held.subtracting(keeping).sorted().compactMap {
            release($0, reason: reason, retryable: true, responsible: worker, memberLoss: true)
        }
    }

    /// Member losses a gang task survives before it fails anyway (a task that kills its
    /// workers must not be re-formed forever).
    static let maximumMemberLosses = 64

    /// The holder reported progress on `id`: the lease's deadline starts again from `now`.
    /// A task that keeps reporting is working, however long it runs (a meta-training run of
    /// an hour, say); one that goes silent for the job's `task_timeout` is leased again.
    /// Reports from a worker that is not the holder (a gang's other members, a stale
    /// attempt) change nothing.
    mutating func renew(_ id: TaskID, by worker: WorkerID, now: Int64) {
        guard var task = tasks[id], !task.awaitingHolder, case .leased(let holder, let deadline, let sentAt) = task.state,
            holder == worker, deadline > 0, let timeout = limits[task.jobID]?.timeoutMilliseconds, timeout > 0
        else { return }
        task.state = .leased(worker: holder, deadline: max(deadline, now + Int64(timeout)), sentAtMicros: sentAt)
        tasks[id] = task
    }

    /// Leases whose deadline has passed, released; each with the worker that held it.
    mutating func expireDeadlines(now: Int64) -> [(worker: WorkerID, release: Release)] {
        var expired: [(WorkerID, TaskID)] = []
        for (worker, ids) in leasesByWorker {
            for id in ids {
                if case .leased(_, let deadline, _) = tasks[id]?.state, deadline > 0, deadline <= now {
                    expired.append((worker, id))
                }
            }
        }
        return expired.sorted { $0.1 < $1.1 }.compactMap { worker, id in
            let timeout = limits[tasks[id]!.jobID]?.timeoutMilliseconds ?? 0
            return release(id, reason: "lease deadline of \(timeout) ms passed on worker \(worker)", retryable: true, responsible: worker)
                .map { (worker, $0) }
        }
    }

    /// - Parameters:
    ///   - responsible: the worker whose failure or death released the lease; a gang's other
    ///     members are listed in `abandoned`.
    ///   - memberLoss: a gang lost a member (the elastic path): the attempt is counted apart.
    private mutating func release(
        _ taskID: TaskID, reason: String, retryable: Bool, responsible: WorkerID? = nil, memberLoss: Bool = false
    ) -> Release? {
        guard var task = tasks[taskID], case .leased(let holder, _, _) = task.state else { return nil }
        dropLease(task, holder: holder)
        if task.gang != nil {
            abandoned += task.members.filter { $0 != responsible }.map { ($0, taskID) }
            if memberLoss { task.memberLosses += 1 }
        } else if task.awaitingHolder {
            // The lease was lost to a coordinator restart (its result, or the lease itself,
            // died with the old process), not to the task: like a gang's lost member, it
            // does not use up an attempt.
            task.memberLosses += 1
            task.awaitingHolder = false
        }
        task.lastFailure = reason
        let maxAttempts = limits[task.jobID]?.maxAttempts ?? 1
        let failedAttempts = task.attempts - task.memberLosses
        if retryable && failedAttempts < maxAttempts && task.memberLosses <= Self.maximumMemberLosses {
            task.state = .queued
            task.waitingSince = nil
            tasks[taskID] = task
            queue(taskID, gang: task.gang != nil)
            return .requeued(taskID: taskID)
        }
        finish(task)
        let losses = task.memberLosses > 0 ? " (and \(task.memberLosses) re-formed after losing a member)" : ""
        let message = retryable ? "gave up after \(failedAttempts) failed attempt(s)\(losses); last: \(reason)" : reason
        return .failed(Final(jobID: task.jobID, key: task.key, attempts: task.attempts, failure: message, worker: holder))
    }

    /// A task has its outcome. It leaves the table at once (the ledger keeps it), except a
    /// gang task, kept until its job ends so that its other members' results are told
    /// apart from strangers' (a job has few gang tasks).
    private mutating func finish(_ task: Task) {
        var task = task
        task.state = .finished
        guard task.gang == nil else {
            tasks[task.id] = task
            return
        }
        tasks[task.id] = nil
        taskIDsByJob[task.jobID]?.remove(task.id)
        recentlyFinished.insert(task.id)
    }

    private mutating func adjustQueued(_ jobID: JobID, by amount: Int) {
        queuedCount += amount
        queuedByJob[jobID, default: 0] += amount
    }

    private mutating func dropLease(_ task: Task, holder: WorkerID) {
        for worker in task.holders(leader: holder) {
            leasesByWorker[worker]?.remove(task.id)
            if leasesByWorker[worker]?.isEmpty == true { leasesByWorker[worker] = nil }
        }
        inFlightByJob[task.jobID, default: 1] -= 1
    }

    private mutating func queue(_ taskID: TaskID, gang: Bool) {
        if gang {
            gangQueue.append(taskID)
        } else {
            let task = tasks[taskID]!
            queues[task.jobID, default: FIFO()].push(taskID)
            adjustQueued(task.jobID, by: 1)
            // Only a first attempt waits for its worker: a later one follows a failure there.
            if let worker = task.preferredWorker, task.attempts == 0 { preferred[worker, default: FIFO()].push(taskID) }
        }
    }

    // MARK: Gangs

    /// Leases queued gang tasks to workers with a free slot.
    ///
    /// A task takes up to its maximum of the free, capable workers, in the order given
    /// (the caller's preference). With fewer than its maximum free it waits up to
    /// `gatherMilliseconds` for more, then starts with what there is if that is at least its
    /// minimum.
    ///
    /// - Parameter free: workers that could start a task at once, with their capabilities.
    mutating func leaseGangs(
        free: [(id: WorkerID, capabilities: Set<String>)], now: Int64, nowMicros: Int64, gatherMilliseconds: Int64
    ) -> [GangLease] {
        var available = free
        var leased: [GangLease] = []
        for id in gangQueue {
            guard var task = tasks[id], task.state == .queued, let size = task.gang, let limits = limits[task.jobID] else { continue }
            if limits.maxInFlight > 0 && inFlightByJob[task.jobID, default: 0] >= limits.maxInFlight { continue }
            let capable = available.filter { $0.capabilities.contains(limits.workload) }.map(\.id)
            let waitedEnough = now - (task.waitingSince ?? now) >= gatherMilliseconds
            if task.waitingSince == nil { task.waitingSince = now }
            guard capable.count >= size.maximum || (capable.count >= size.minimum && waitedEnough) else {
                tasks[id] = task
                continue
            }
            let members = Array(capable.prefix(size.maximum))
            available.removeAll { members.contains($0.id) }
            task.attempts += 1
            task.leaders.append(members[0])
            task.members = members
            task.waitingSince = nil
            let deadline = limits.timeoutMilliseconds > 0 ? now + Int64(limits.timeoutMilliseconds) : 0
            task.state = .leased(worker: members[0], deadline: deadline, sentAtMicros: nowMicros)
            tasks[id] = task
            inFlightByJob[task.jobID, default: 0] += 1
            for member in members { leasesByWorker[member, default: []].insert(id) }
            let lease = Lease(
                taskID: id, jobID: task.jobID, workload: limits.workload, payload: task.payload, attempt: task.attempts,
                deadlineMilliseconds: limits.timeoutMilliseconds)
            leased.append(GangLease(lease: lease, members: members))
        }
        let started = Set(leased.map(\.lease.taskID))
        gangQueue.removeAll { started.contains($0) }
        return leased
    }
}
