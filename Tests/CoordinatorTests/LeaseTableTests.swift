import Foundation
import Testing
import Workloads

@testable import Coordinator

@Suite("Lease table")
struct LeaseTableTests {
    static let limits = LeaseTable.JobLimits(workload: "noop", maxAttempts: 2, timeoutMilliseconds: 1_000, maxInFlight: 0)
    let all: Set<String> = ["noop", "sweep"]

    func table(tasks: Int, job: JobID = "j", limits: LeaseTable.JobLimits = limits) -> LeaseTable {
        var table = LeaseTable()
        table.addJob(job, limits: limits)
        table.enqueue(jobID: job, (0..<tasks).map { PlannedTask(key: "\($0)", payload: Data([UInt8($0)])) })
        return table
    }

    @Test("leases go out in order, each task once, up to the limit")
    func leasing() {
        var table = table(tasks: 5)
        let first = table.lease(to: "a", capabilities: all, limit: 3, now: 0, nowMicros: 0)
        #expect(first.map(\.taskID) == ["j/0", "j/1", "j/2"])
        #expect(first.allSatisfy { $0.attempt == 1 && $0.deadlineMilliseconds == 1_000 })
        let second = table.lease(to: "b", capabilities: all, limit: 10, now: 0, nowMicros: 0)
        #expect(second.map(\.taskID) == ["j/3", "j/4"])
        #expect(table.queuedCount == 0)
        #expect(table.leaseCount(worker: "a") == 3)
    }

    @Test("the first result finishes a task; a later one is a duplicate")
    func exactlyOnce() {
        var table = table(tasks: 1)
        _ = table.lease(to: "a", capabilities: all, limit: 1, now: 0, nowMicros: 100)
        guard case .accepted(let final, let roundTrip, nil) = table.complete("j/0", worker: "a", attempt: 1, nowMicros: 350) else {
            Issue.record("first result not accepted")
            return
        }
        #expect(final.key == "0" && final.attempts == 1 && final.failure == nil)
        #expect(roundTrip == 250)
        #expect(table.complete("j/0", worker: "a", attempt: 1, nowMicros: 400) == .duplicate)
        #expect(table.complete("j/9", worker: "a", attempt: 1, nowMicros: 400) == .unknown)
    }

    @Test("finished tasks leave the table at once; a late result for one is still a duplicate")
    func finishedTasksLeaveMemory() {
        var table = LeaseTable()
        table.addJob("j", limits: Self.limits)
        for round in 0..<4 {
            table.enqueue(jobID: "j", (0..<500).map { PlannedTask(key: "\(round)-\($0)", payload: Data()) })
            let leased = table.lease(to: "a", capabilities: all, limit: 500, now: 0, nowMicros: 0)
            for lease in leased { _ = table.complete(lease.taskID, worker: "a", attempt: lease.attempt, nowMicros: 0) }
            #expect(table.tasks.isEmpty, "round \(round): \(table.tasks.count) finished tasks kept")
        }
        #expect(table.complete("j/3-7", worker: "a", attempt: 1, nowMicros: 0) == .duplicate)
        #expect(table.complete("j/never", worker: "a", attempt: 1, nowMicros: 0) == .unknown)
        // Only the most recent finished tasks are remembered.
        var recent = RecentSet(capacity: 3)
        for id in ["a", "b", "c", "d"] { recent.insert(id) }
        #expect(!recent.contains("a") && recent.contains("b") && recent.contains("d") && recent.count == 3)
    }

    @Test("after a restart: restored leases wait for their holder, lost leases return free, the holder's answer counts whatever attempt")
    func restoredLeases() {
        var table = LeaseTable()
        table.addJob("j", limits: Self.limits)
        // Ledger: task 0 held by "a" at attempt 2; task 1 queued after one attempt.
        table.restore(jobID: "j", key: "0", payload: Data(), gang: nil, cacheKey: nil, attempts: 2, memberLosses: 0, holder: "a", reattachBy: 500, nowMicros: 0)
        table.restore(jobID: "j", key: "1", payload: Data(), gang: nil, cacheKey: nil, attempts: 1, memberLosses: 0, holder: nil, reattachBy: 500, nowMicros: 0)
        #expect(table.leaseCount(worker: "a") == 1 && table.queuedCount == 1)
        // "a" answers for attempt 1 of task 0 (it never got attempt 2): accepted.
        guard case .accepted = table.complete("j/0", worker: "a", attempt: 1, nowMicros: 0) else {
            Issue.record("the holder's answer for an older attempt was refused")
            return
        }
        // "b" names attempt 2 of task 1, a lease the ledger never recorded: accepted.
        guard case .accepted = table.complete("j/1", worker: "b", attempt: 2, nowMicros: 0) else {
            Issue.record("a result for an unrecorded later attempt was refused")
            return
        }
        // A lease that never reached its worker comes back without using an attempt:
        // with max_attempts 2, the task still gets two real attempts after it.
        table.enqueue(jobID: "j", [PlannedTask(key: "2", payload: Data())])
        #expect(table.lease(to: "c", capabilities: all, limit: 1, now: 0, nowMicros: 0).map(\.attempt) == [1])
        #expect(table.releaseLost("c", reason: "lost") == [.requeued(taskID: "j/2")])
        #expect(table.lease(to: "c", capabilities: all, limit: 1, now: 0, nowMicros: 0).map(\.attempt) == [2])
        #expect(table.fail("j/2", worker: "c", attempt: 2, message: "x", retryable: true) == .requeued(taskID: "j/2"))
    }

    @Test("a dead worker's leases return to the queue, and the old holder's late result still counts once")
    func workerDeath() {
        var table = table(tasks: 2)
        _ = table.lease(to: "a", capabilities: all, limit: 2, now: 0, nowMicros: 0)
        let released = table.releaseWorker("a", reason: "died")
        #expect(released == [.requeued(taskID: "j/0"), .requeued(taskID: "j/1")])
        #expect(table.queuedCount == 2)
        let again = table.lease(to: "b", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        #expect(again.map(\.attempt) == [2])
        // "a" was not dead after all: its result arrives first and wins; "b" must cancel.
        guard case .accepted(_, _, let superseded) = table.complete("j/0", worker: "a", attempt: 1, nowMicros: 0) else {
            Issue.record("late result from the first holder was not accepted")
            return
        }
        #expect(superseded == "b")
        #expect(table.complete("j/0", worker: "b", attempt: 2, nowMicros: 0) == .duplicate)
        // j/1 is queued again; a late result for it finishes it and it is never leased.
        guard case .accepted = table.complete("j/1", worker: "a", attempt: 1, nowMicros: 0) else {
            Issue.record("result for a requeued task not accepted")
            return
        }
        #expect(table.queuedCount == 0)
        #expect(table.lease(to: "b", capabilities: all, limit: 5, now: 0, nowMicros: 0).isEmpty)
    }

    @Test("after the last attempt the task fails with the reason")
    func maxAttempts() {
        var table = table(tasks: 1)
        _ = table.lease(to: "a", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        #expect(table.releaseWorker("a", reason: "died") == [.requeued(taskID: "j/0")])
        _ = table.lease(to: "b", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        let released = table.releaseWorker("b", reason: "died too")
        guard case .failed(let final) = released.first else {
            Issue.record("expected a final failure, got \(released)")
            return
        }
        #expect(final.attempts == 2)
        #expect(final.failure?.contains("died too") == true)
    }

    @Test("non-retryable failures end the task at once; failures from a stale lease are ignored")
    func failures() {
        var table = table(tasks: 1)
        _ = table.lease(to: "a", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        #expect(table.fail("j/0", worker: "other", message: "x", retryable: true) == nil)
        guard case .failed(let final) = table.fail("j/0", worker: "a", message: "bad payload", retryable: false) else {
            Issue.record("non-retryable failure did not end the task")
            return
        }
        #expect(final.failure == "bad payload" && final.attempts == 1)
    }

    @Test("a passed deadline releases the lease and names the worker")
    func deadlines() {
        var table = table(tasks: 2)
        _ = table.lease(to: "a", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        _ = table.lease(to: "b", capabilities: all, limit: 1, now: 500, nowMicros: 0)
        #expect(table.expireDeadlines(now: 999).isEmpty)
        let expired = table.expireDeadlines(now: 1_001)
        #expect(expired.count == 1)
        #expect(expired.first?.worker == "a")
        #expect(expired.first?.release == .requeued(taskID: "j/0"))
    }

    @Test("a lease that never left is taken back without using an attempt, at the front of the queue")
    func unlease() {
        var table = table(tasks: 3)
        let leases = table.lease(to: "a", capabilities: all, limit: 2, now: 0, nowMicros: 0)
        table.unlease(leases.map(\.taskID))
        let again = table.lease(to: "a", capabilities: all, limit: 3, now: 0, nowMicros: 0)
        #expect(again.map(\.taskID) == ["j/0", "j/1", "j/2"])
        #expect(again.allSatisfy { $0.attempt == 1 })
    }

    @Test("jobs take turns, max_in_flight caps a job, and workers get only workloads they run")
    func fairnessAndLimits() {
        var table = LeaseTable()
        table.addJob("x", limits: .init(workload: "noop", maxAttempts: 1, timeoutMilliseconds: 0, maxInFlight: 0))
        table.addJob("y", limits: .init(workload: "sweep", maxAttempts: 1, timeoutMilliseconds: 0, maxInFlight: 1))
        table.enqueue(jobID: "x", (0..<100).map { PlannedTask(key: "\($0)", payload: Data()) })
        table.enqueue(jobID: "y", (0..<3).map { PlannedTask(key: "\($0)", payload: Data()) })
        let sweepOnly = table.lease(to: "s", capabilities: ["sweep"], limit: 10, now: 0, nowMicros: 0)
        #expect(sweepOnly.map(\.taskID) == ["y/0"])
        let both = table.lease(to: "b", capabilities: all, limit: 10, now: 0, nowMicros: 0)
        #expect(both.allSatisfy { $0.jobID == "x" })
        #expect(both.count == 10)
        #expect(table.lease(to: "b", capabilities: all, limit: 1, now: 0, nowMicros: 0).first?.deadlineMilliseconds == 0)
    }

    @Test("a task that prefers a worker goes to it first; others take it while that worker is busy or gone, and a retry goes to anyone")
    func preferredWorker() {
        var table = LeaseTable()
        table.addJob("j", limits: Self.limits)
        table.enqueue(jobID: "j", [
            PlannedTask(key: "plain", payload: Data()), PlannedTask(key: "mine", payload: Data(), preferredWorker: "b", startsFrom: "earlier"),
            PlannedTask(key: "also-mine", payload: Data(), preferredWorker: "b", startsFrom: "earlier"),
        ])
        #expect(table.hasPreferredTasks)
        // The preferred pass: "b" takes its own, oldest first, up to its room; nobody else's.
        #expect(table.leasePreferred(to: "a", capabilities: all, limit: 5, now: 0, nowMicros: 0).isEmpty)
        let own = table.leasePreferred(to: "b", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        #expect(own.map(\.taskID) == ["j/mine"])
        #expect(own[0].checkpointFrom == nil, "the preferred worker holds the state it continues")
        #expect(table.queuedCount == 2)
        // The job's queue skips what went out by preference; a busy "b" leaves the rest to others,
        // and their leases carry the checkpoint of the task they continue.
        let others = table.lease(to: "a", capabilities: all, limit: 5, now: 0, nowMicros: 0)
        #expect(others.map(\.taskID) == ["j/plain", "j/also-mine"])
        #expect(others.map(\.checkpointFrom) == [nil, TaskID(job: "j", key: "earlier")])
        #expect(table.queuedCount == 0)
        #expect(table.leasePreferred(to: "b", capabilities: all, limit: 5, now: 0, nowMicros: 0).isEmpty, "already leased elsewhere")
        #expect(!table.hasPreferredTasks)
        for (key, worker) in [("plain", "a"), ("mine", "b"), ("also-mine", "a")] {
            _ = table.complete(TaskID(job: "j", key: key), worker: WorkerID(worker), attempt: 1, nowMicros: 0)
        }

        // A worker that cannot run the workload is passed over but keeps its claim.
        table.enqueue(jobID: "j", [PlannedTask(key: "later", payload: Data(), preferredWorker: "b")])
        #expect(table.leasePreferred(to: "b", capabilities: ["sweep"], limit: 5, now: 0, nowMicros: 0).isEmpty)
        #expect(table.leasePreferred(to: "b", capabilities: all, limit: 5, now: 0, nowMicros: 0).map(\.taskID) == ["j/later"])
        // Its retry (the lease expired) is anyone's: a later attempt follows a failure there.
        _ = table.expireDeadlines(now: 10_000)
        #expect(table.leasePreferred(to: "b", capabilities: all, limit: 5, now: 10_000, nowMicros: 0).isEmpty)
        #expect(table.lease(to: "a", capabilities: all, limit: 5, now: 10_000, nowMicros: 0).map(\.taskID) == ["j/later"])

        // An ended job's claims are dropped, not kept for ever.
        table.addJob("k", limits: Self.limits)
        table.enqueue(jobID: "k", [PlannedTask(key: "ended", payload: Data(), preferredWorker: "b")])
        _ = table.removeJob("k")
        #expect(table.leasePreferred(to: "b", capabilities: all, limit: 5, now: 10_000, nowMicros: 0).isEmpty)
        #expect(!table.hasPreferredTasks)

        // A dead worker's claims are forgotten; the tasks stay queued for anyone.
        table.enqueue(jobID: "j", [PlannedTask(key: "orphan", payload: Data(), preferredWorker: "c")])
        table.forgetPreferences(of: "c")
        #expect(!table.hasPreferredTasks)
        #expect(table.lease(to: "a", capabilities: all, limit: 5, now: 10_000, nowMicros: 0).map(\.taskID) == ["j/orphan"])
    }

    @Test("a duplicate task key is refused; removing a job hands back its outstanding leases")
    func keysAndRemoval() {
        var table = table(tasks: 3)
        #expect(table.enqueue(jobID: "j", [PlannedTask(key: "1", payload: Data())]) == ["1"])
        _ = table.lease(to: "a", capabilities: all, limit: 2, now: 0, nowMicros: 0)
        let outstanding = table.removeJob("j")
        #expect(outstanding["a"]?.sorted() == ["j/0", "j/1"])
        #expect(table.queuedCount == 0 && table.leasedCount == 0 && table.leaseCount(worker: "a") == 0)
        #expect(table.complete("j/0", worker: "a", attempt: 1, nowMicros: 0) == .unknown)
        #expect(table.lease(to: "a", capabilities: all, limit: 5, now: 0, nowMicros: 0).isEmpty)
        // Its tasks leave memory a slice per turn.
        #expect(table.removalBacklog == 3)
        #expect(table.collectRemoved(budget: 2) == 2)
        #expect(table.collectRemoved(budget: 10) == 1)
        #expect(table.tasks.isEmpty && table.removalBacklog == 0)
    }

    @Test("a result counts only from the worker that held the attempt it names")
    func attemptsMustMatch() {
        var table = table(tasks: 2)
        _ = table.lease(to: "a", capabilities: all, limit: 1, now: 0, nowMicros: 0)
        // Attempt 6 of a task leased once, attempt 0, and another worker's claim: ignored.
        #expect(table.complete("j/0", worker: "a", attempt: 6, nowMicros: 0) == .staleAttempt)
        #expect(table.complete("j/0", worker: "a", attempt: 0, nowMicros: 0) == .staleAttempt)
        #expect(table.complete("j/0", worker: "x", attempt: 1, nowMicros: 0) == .staleAttempt)
        // A task never leased cannot be finished by anyone.
        #expect(table.complete("j/1", worker: "a", attempt: 1, nowMicros: 0) == .staleAttempt)
        #expect(table.leaseCount(worker: "a") == 1)
        // The lease moves to b (a died); a's late answer for attempt 1 still counts, b's
        // claim to attempt 1 does not.
        _ = table.releaseWorker("a", reason: "died")
        let moved = table.lease(to: "b", capabilities: all, limit: 2, now: 0, nowMicros: 0)
        #expect(moved.map(\.taskID).sorted() == ["j/0", "j/1"])
        #expect(table.complete("j/0", worker: "b", attempt: 1, nowMicros: 0) == .staleAttempt)
        guard case .accepted(_, _, let superseded) = table.complete("j/0", worker: "a", attempt: 1, nowMicros: 0) else {
            Issue.record("the first holder's late result was not accepted")
            return
        }
        #expect(superseded == "b")
    }

    @Test("a gang's result counts only from its current leader; members and old members do not finish it")
    func gangAttempts() {
        var table = LeaseTable()
        table.addJob("g", limits: Self.limits)
        table.enqueue(jobID: "g", [PlannedTask(key: "t", payload: Data(), gang: GangSize(minimum: 2, maximum: 2))])
        let first = table.leaseGangs(free: [("a", all), ("b", all)], now: 0, nowMicros: 0, gatherMilliseconds: 0)
        #expect(first.first?.members == ["a", "b"])
        _ = table.releaseWorker("b", reason: "died")
        let second = table.leaseGangs(free: [("c", all), ("a", all)], now: 0, nowMicros: 0, gatherMilliseconds: 0)
        #expect(second.first?.members == ["c", "a"])
        // b (a member of attempt 1, never a leader) cannot finish it; a, member of attempt 2, only reports its part.
        #expect(table.complete("g/t", worker: "b", attempt: 1, nowMicros: 0) == .staleAttempt)
        #expect(table.complete("g/t", worker: "a", attempt: 2, nowMicros: 0) == .memberFinished)
        guard case .accepted(let final, _, nil) = table.complete("g/t", worker: "c", attempt: 2, nowMicros: 0) else {
            Issue.record("the leader's result was not accepted")
            return
        }
        #expect(final.attempts == 2)
    }

    @Test("a gang that loses members is re-formed without using up attempts; its own failures still count")
    func memberLossesAreNotAttempts() {
        var table = LeaseTable()
        table.addJob("g", limits: Self.limits)  // max_attempts: 2
        table.enqueue(jobID: "g", [PlannedTask(key: "t", payload: Data(), gang: GangSize(minimum: 2, maximum: 2))])
        let workers: [WorkerID] = ["a", "b", "c", "d", "e", "f"]
        for round in 0..<5 {
            let free = workers.map { (id: $0, capabilities: all) }.filter { $0.id != workers[round] }
            guard let gang = table.leaseGangs(free: free, now: 0, nowMicros: 0, gatherMilliseconds: 0).first else {
                Issue.record("no gang formed in round \(round)")
                return
            }
            // Alternately a member dies, or a member reports a failure that blames a peer.
            let release = round % 2 == 0
                ? table.releaseWorker(gang.members[1], reason: "died")
                : [table.fail("g/t", worker: gang.members[0], attempt: gang.lease.attempt, message: "peer vanished", retryable: true, blamesPeer: true)].compactMap { $0 }
            #expect(release == [.requeued(taskID: "g/t")], "round \(round)")
        }
        // A failure of the task itself counts: two of them end it.
        for attempt in 0..<2 {
            let gang = table.leaseGangs(free: [("a", all), ("b", all)], now: 0, nowMicros: 0, gatherMilliseconds: 0)
            let release = table.fail("g/t", worker: "a", attempt: gang.first?.lease.attempt, message: "diverged", retryable: true)
            if attempt == 0 {
                #expect(release == .requeued(taskID: "g/t"))
            } else {
                guard case .failed(let final) = release else {
                    Issue.record("expected the task to fail, got \(String(describing: release))")
                    return
                }
                #expect(final.failure?.contains("gave up after 2 failed attempt(s) (and 5 re-formed after losing a member)") == true, "\(final)")
            }
        }
    }

    @Test("liveness: dead only after the allowed silence")
    func liveness() {
        let policy = LivenessPolicy(intervalMilliseconds: 1000, misses: 3)
        #expect(!policy.isDead(lastHeard: 0, now: 3000))
        #expect(policy.isDead(lastHeard: 0, now: 3001))
    }
}
