import Foundation
import Logging
import Messaging
import Synchronization
import Testing
import Wire
import Workloads

@testable import Coordinator

/// The coordinator's rules driven through `CoordinatorCore.handle` alone: frames in as
/// events, frames out as effects, no socket and no process.
@Suite("Coordinator core, without sockets")
struct CoordinatorCoreTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let now = Mutex<Int64>(1_000_000)
        var milliseconds: Int64 { now.withLock { $0 } }
        func advance(milliseconds: Int64) { now.withLock { $0 += milliseconds } }
        var coordinatorClock: CoordinatorClock {
            CoordinatorClock(milliseconds: { self.milliseconds }, microseconds: { self.milliseconds * 1000 })
        }
    }

    /// A core and the peers a test plays.
    final class Harness {
        let core: CoordinatorCore
        let clock = ManualClock()
        /// Everything sent so far: (peer, message).
        private(set) var sent: [(peer: String, body: EnvelopeBody)] = []
        private(set) var effects: [CoordinatorCore.Effect] = []

        init(stateDirectory: String? = nil) throws {
            var config = CoordinatorConfig()
            config.stateDirectory = stateDirectory
            core = CoordinatorCore(config: config, logger: Logger(label: "test"), clock: clock.coordinatorClock)
            try core.start()
        }

        func receive(_ body: EnvelopeBody, from peer: String) { record(core.handle(.frames([Array(peer.utf8), EnvelopeCodec.encode(body)]))) }

        func turn() {
            record(core.handle(.turn))
            record(core.handle(.endOfTurn))
        }

        func undeliver(_ what: CoordinatorCore.Undelivered) { record(core.handle(.undelivered(what))) }

        private func record(_ new: [CoordinatorCore.Effect]) {
            effects += new
            for case .send(let frame, let peer, _) in new {
                sent.append((String(decoding: peer, as: UTF8.self), try! EnvelopeCodec.decode(frame)))
            }
        }

        /// Takes what was sent since the last call.
        func take() -> [(peer: String, body: EnvelopeBody)] {
            defer { sent = []; effects = [] }
            return sent
        }

        func register(_ peer: String, id: String, running: [String] = [], capabilities: [String] = ["noop", "sweep"]) {
            var message = Orrery_V1_Register()
            message.workerID = id
            message.slots = 1
            message.capabilities = capabilities
            message.runningTaskIds = running
            receive(.register(message), from: peer)
            receive(.heartbeat(Orrery_V1_Heartbeat()), from: peer)  // proof of life: leases may follow
        }

        func submit(_ yaml: String, from client: String) -> String? {
            var message = Orrery_V1_SubmitJob()
            message.specYaml = yaml
            message.watch = true
            receive(.submitJob(message), from: client)
            return take().compactMap { if case .jobAccepted(let accepted) = $0.body { accepted.jobID } else { nil } }.first
        }

        func succeed(_ lease: Orrery_V1_TaskLease, from peer: String) {
            var result = Orrery_V1_TaskResult()
            result.taskID = lease.taskID
            result.attempt = lease.attempt
            result.success = Orrery_V1_TaskSuccess()
            var batch = Orrery_V1_ResultBatch()
            batch.results = [result]
            receive(.results(batch), from: peer)
        }
    }

    static func leases(_ sent: [(peer: String, body: EnvelopeBody)], to peer: String) -> [Orrery_V1_TaskLease] {
        sent.filter { $0.peer == peer }.flatMap { (message) -> [Orrery_V1_TaskLease] in
            guard case .leases(let batch) = message.body else { return [] }
            return batch.leases
        }
    }

    static func finalUpdate(_ sent: [(peer: String, body: EnvelopeBody)], to peer: String) -> Orrery_V1_JobInfo? {
        sent.filter { $0.peer == peer }.compactMap { if case .jobUpdate(let update) = $0.body { update.job } else { nil } }
            .last { $0.state != .running }
    }

    @Test("register, lease, report: a job runs to its end, and its watcher hears it")
    func jobEndToEnd() throws {
        let harness = try Harness()
        harness.register("w1#a", id: "w1")
        #expect(harness.take().contains { if case .registered = $0.body { $0.peer == "w1#a" } else { false } })
        let jobID = try #require(harness.submit("name: t\nworkload: noop\nnoop:\n  tasks: 3\n", from: "client"))
        // One slot, two leases ahead: answer what arrives, turn by turn, until the job ends.
        var leased: [String] = []
        var job: Orrery_V1_JobInfo?
        for _ in 0..<10 where job == nil {
            harness.turn()
            let sent = harness.take()
            job = Self.finalUpdate(sent, to: "client")
            let leases = Self.leases(sent, to: "w1#a")
            #expect(leases.count <= 2 && leases.allSatisfy { $0.attempt == 1 })
            leased += leases.map(\.taskID)
            for lease in leases { harness.succeed(lease, from: "w1#a") }
        }
        #expect(leased.sorted() == ["\(jobID)/0", "\(jobID)/1", "\(jobID)/2"])
        #expect(job?.state == .succeeded && job?.tasksDone == 3)
    }

    /// A NAS trial as a worker that keeps its state answers it: a result naming the kept
    /// copy, then the state itself as the finished task's checkpoint.
    static func answerTrial(_ lease: Orrery_V1_TaskLease, accuracy: Double, from peer: String, harness: Harness) throws {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: lease.payload)
        var trial = Orrery_V1_Workloads_NasTrialResult()
        trial.devAccuracy = Array(repeating: accuracy, count: Int(task.endEpoch))
        trial.resumedAtEpoch = task.startEpoch
        if task.keepCheckpoint { trial.keptCheckpoint = "kept \(lease.taskID)" }
        var result = Orrery_V1_TaskResult()
        result.taskID = lease.taskID
        result.attempt = lease.attempt
        result.success = Orrery_V1_TaskSuccess()
        result.success.payload = try trial.serializedData()
        var batch = Orrery_V1_ResultBatch()
        batch.results = [result]
        harness.receive(.results(batch), from: peer)
        if task.keepCheckpoint { harness.receive(.checkpoint(Self.checkpoint(lease, step: task.endEpoch)), from: peer) }
    }

    static func checkpoint(_ lease: Orrery_V1_TaskLease, step: UInt32) -> Orrery_V1_Checkpoint {
        var checkpoint = Orrery_V1_Checkpoint()
        checkpoint.taskID = lease.taskID
        checkpoint.attempt = lease.attempt
        checkpoint.step = UInt64(step)
        checkpoint.data = Data("state of \(lease.taskID)".utf8)
        return checkpoint
    }

    @Test("ASHA's promoted trial goes to the worker keeping its state, with no bytes; while that worker is busy, another gets it with the committed copy")
    func promotedTrialFollowsItsState() throws {
        let harness = try Harness()
        harness.register("w1#a", id: "w1", capabilities: ["nas"])
        harness.register("w2#b", id: "w2", capabilities: ["nas"])
        _ = harness.take()
        _ = try #require(harness.submit("""
            name: asha
            workload: nas
            nas:
              dataset: digits
              strategy: asha
              epochs: 3
              min_epochs: 1
              reduction: 3
              budget: 20
              parallel: 2
              dev: 300
              space:
                family: mlp
                depth: 1
                width_1: {choice: [16, 32, 64, 128]}
                learning_rate: {log: [0.001, 0.1]}
            """, from: "client"))
        var held: [String: Orrery_V1_TaskLease] = [:]
        func leaseTurn() throws -> [String: Orrery_V1_TaskLease] {
            harness.turn()
            let sent = harness.take()
            var new: [String: Orrery_V1_TaskLease] = [:]
            for peer in ["w1#a", "w2#b"] {
                let leases = Self.leases(sent, to: peer)
                #expect(leases.count <= 1, "one slot each")
                if let lease = leases.first { new[peer] = lease; held[peer] = lease }
            }
            return new
        }
        func task(_ lease: Orrery_V1_TaskLease?) throws -> Orrery_V1_Workloads_NasTrialTask {
            try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialTask.self, from: try #require(lease).payload)
        }
        // Two first-rung trials, one each; the best (0.9) is kept on w1.
        _ = try leaseTurn()
        try Self.answerTrial(try #require(held["w1#a"]), accuracy: 0.9, from: "w1#a", harness: harness)
        try Self.answerTrial(try #require(held["w2#b"]), accuracy: 0.5, from: "w2#b", harness: harness)
        let bestTrial = try #require(held["w1#a"])
        let second = try leaseTurn()
        let starts = try second.values.map { try task($0).startEpoch }
        #expect(starts == [0, 0], "two new trials")
        // A finished task's checkpoint is taken only from the worker that finished it.
        let before = harness.core.counters[.checkpointsCommitted]
        var forged = Self.checkpoint(bestTrial, step: 1)
        forged.data = Data("forged".utf8)
        harness.receive(.checkpoint(forged), from: "w2#b")
        #expect(harness.core.counters[.checkpointsCommitted] == before, "a stranger's checkpoint of a finished task was taken")
        // w1 stays busy; w2's third result lets ASHA promote the 0.9 trial, kept on w1: w2
        // gets it, and its lease carries the copy w1 committed.
        try Self.answerTrial(try #require(held["w2#b"]), accuracy: 0.3, from: "w2#b", harness: harness)
        let elsewhere = try #require(try leaseTurn()["w2#b"])
        let promoted = try task(elsewhere)
        #expect(promoted.startEpoch == 1 && promoted.endEpoch == 3 && !promoted.keepCheckpoint && promoted.keptCheckpoint.hasPrefix("kept "))
        let source = String(promoted.keptCheckpoint.dropFirst("kept ".count))
        #expect(elsewhere.resumeCheckpoint == Data("state of \(source)".utf8) && elsewhere.resumeStep == 1, "the lease carries the committed copy")
        // w1 ends its trial with 0.95, now the best of four first-rung results: ASHA promotes
        // it, and w1, free, gets it without bytes.
        try Self.answerTrial(try #require(held["w1#a"]), accuracy: 0.95, from: "w1#a", harness: harness)
        let kept = "kept " + (try #require(held["w1#a"])).taskID
        let onKeeper = try #require(try leaseTurn()["w1#a"])
        let own = try task(onKeeper)
        #expect(own.startEpoch == 1 && own.keptCheckpoint == kept, "\(own.keptCheckpoint) is not \(kept)")
        #expect(onKeeper.resumeCheckpoint.isEmpty, "the keeper holds the state: no bytes travel")
    }

    @Test("a lease batch the loop could not deliver goes back, and the attempt does not count")
    func undeliveredLeases() throws {
        let harness = try Harness()
        harness.register("w1#a", id: "w1")
        _ = harness.take()
        _ = try #require(harness.submit("name: t\nworkload: noop\nnoop:\n  tasks: 2\n", from: "client"))
        harness.turn()
        let effects = harness.effects
        let first = Self.leases(harness.take(), to: "w1#a")
        #expect(first.count == 2)
        for case .send(_, _, let ifUndelivered) in effects where ifUndelivered != .nothing {
            harness.undeliver(ifUndelivered)
        }
        harness.turn()
        let again = Self.leases(harness.take(), to: "w1#a")
        #expect(again.map(\.taskID).sorted() == first.map(\.taskID).sorted())
        #expect(again.allSatisfy { $0.attempt == 1 })
    }

    /// Two workers and a one-task job: the task's lease, the worker holding it, the other.
    static func oneTaskOnTwoWorkers(_ harness: Harness, maxAttempts: Int) throws -> (lease: Orrery_V1_TaskLease, holder: String, other: String) {
        harness.register("w1#a", id: "w1")
        harness.register("w2#b", id: "w2")
        _ = harness.take()
        _ = try #require(harness.submit("name: t\nworkload: noop\nmax_attempts: \(maxAttempts)\nnoop:\n  tasks: 1\n", from: "client"))
        harness.turn()
        let sent = harness.take()
        let lease = try #require((Self.leases(sent, to: "w1#a") + Self.leases(sent, to: "w2#b")).first)
        let holder = Self.leases(sent, to: "w1#a").isEmpty ? "w2#b" : "w1#a"
        return (lease, holder, holder == "w1#a" ? "w2#b" : "w1#a")
    }

    @Test("progress from the holder renews its lease's deadline; a stranger's does not; silence past the timeout re-leases")
    func progressRenewsTheLease() throws {
        let harness = try Harness()
        harness.register("w1#a", id: "w1")
        harness.register("w2#b", id: "w2")
        _ = harness.take()
        _ = try #require(harness.submit("name: t\nworkload: noop\ntask_timeout: 1s\nnoop:\n  tasks: 1\n", from: "client"))
        harness.turn()
        let sent = harness.take()
        let lease = try #require((Self.leases(sent, to: "w1#a") + Self.leases(sent, to: "w2#b")).first)
        let holder = Self.leases(sent, to: "w1#a").isEmpty ? "w2#b" : "w1#a"
        let other = holder == "w1#a" ? "w2#b" : "w1#a"
        func progress(from peer: String) {
            var item = Orrery_V1_Progress()
            item.taskID = lease.taskID
            item.fraction = 0.5
            item.message = "still going"
            var batch = Orrery_V1_ProgressBatch()
            batch.items = [item]
            harness.receive(.progress(batch), from: peer)
        }
        // 3 s in steps of 0.6 s, the holder reporting each time: never past 1 s of silence.
        for _ in 0..<5 {
            harness.clock.advance(milliseconds: 600)
            for peer in [holder, other] { harness.receive(.heartbeat(Orrery_V1_Heartbeat()), from: peer) }
            progress(from: holder)
            progress(from: other)  // not the holder: renews nothing, and is not needed here
            harness.turn()
            let sentNow = harness.take()
            #expect((Self.leases(sentNow, to: other) + Self.leases(sentNow, to: holder)).isEmpty, "re-leased although the holder kept reporting")
        }
        // Only the other worker speaks now: within a few turns past 1 s of the holder's
        // silence the lease expires and is given out again.
        var moved: [Orrery_V1_TaskLease] = []
        for _ in 0..<6 where moved.isEmpty {
            harness.clock.advance(milliseconds: 600)
            for peer in [holder, other] { harness.receive(.heartbeat(Orrery_V1_Heartbeat()), from: peer) }
            progress(from: other)
            harness.turn()
            let sentNow = harness.take()
            moved = Self.leases(sentNow, to: other) + Self.leases(sentNow, to: holder)
        }
        #expect(moved.map(\.attempt) == [2], "the silent lease was not given out again")
    }

    @Test("a result for a finished task is a duplicate; one from a stranger is refused; the job counts each task once")
    func duplicatesAndStrangers() throws {
        let harness = try Harness()
        let (lease, holder, other) = try Self.oneTaskOnTwoWorkers(harness, maxAttempts: 3)
        harness.succeed(lease, from: other)  // never held it
        #expect(harness.core.counters[.resultsStaleAttempt] == 1)
        harness.succeed(lease, from: holder)
        harness.succeed(lease, from: holder)
        #expect(harness.core.counters[.duplicateResults] == 1)
        harness.turn()
        let job = try #require(Self.finalUpdate(harness.take(), to: "client"))
        #expect(job.state == .succeeded && job.tasksDone == 1)
    }

    @Test("a worker silent past the liveness timeout is declared dead, and its lease goes to another worker as attempt 2")
    func silentWorker() throws {
        let harness = try Harness()
        let (_, holder, other) = try Self.oneTaskOnTwoWorkers(harness, maxAttempts: 2)
        // The holder says nothing more; the other heartbeats every second.
        var moved: [Orrery_V1_TaskLease] = []
        for _ in 0..<5 where moved.isEmpty {
            harness.clock.advance(milliseconds: 1_000)
            harness.receive(.heartbeat(Orrery_V1_Heartbeat()), from: other)
            harness.turn()
            moved = Self.leases(harness.take(), to: other)
        }
        #expect(moved.map(\.attempt) == [2])
        #expect(harness.core.counters[.workersDeclaredDead] == 1)
        #expect(harness.core.workers.worker(routingID: Array(holder.utf8)) == nil)
    }

    @Test("after a restart, a lease whose holder never comes back is leased again after the re-attach window, without using an attempt")
    func holderNeverReturns() throws {
        let directory = NSTemporaryDirectory() + "orrery-core-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let first = try Harness(stateDirectory: directory)
            first.register("w1#a", id: "w1")
            _ = first.take()
            _ = try #require(first.submit("name: t\nworkload: noop\nmax_attempts: 1\nnoop:\n  tasks: 1\n", from: "client"))
            first.turn()
            #expect(Self.leases(first.take(), to: "w1#a").count == 1)
        }
        let second = try Harness(stateDirectory: directory)
        second.register("w2#b", id: "w2")
        var waited: Int64 = 0
        var lease: Orrery_V1_TaskLease?
        while lease == nil && waited < 20_000 {
            second.clock.advance(milliseconds: 1_000)
            waited += 1_000
            second.receive(.heartbeat(Orrery_V1_Heartbeat()), from: "w2#b")
            second.turn()
            lease = Self.leases(second.take(), to: "w2#b").first
        }
        // Held for w1 for the re-attach window (max(10 s, 4 × 3 s liveness timeout)), then free.
        #expect(waited >= 12_000 && waited <= 14_000, "leased after \(waited) ms")
        let moved = try #require(lease)
        #expect(moved.attempt == 2)
        // With max_attempts 1 the job still succeeds: the restart's loss was not an attempt.
        second.succeed(moved, from: "w2#b")
        second.turn()
        var watch = Orrery_V1_WatchJob()
        watch.jobID = String(moved.taskID.split(separator: "/")[0])
        watch.once = true
        second.receive(.watchJob(watch), from: "client2")
        #expect(Self.finalUpdate(second.take(), to: "client2")?.state == .succeeded)
    }

    @Test("a new core on the same ledger resumes the job; the worker that held a lease keeps it and its result counts")
    func restartFromTheLedger() throws {
        let directory = NSTemporaryDirectory() + "orrery-core-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var jobID = ""
        var held: [Orrery_V1_TaskLease] = []
        do {
            let first = try Harness(stateDirectory: directory)
            first.register("w1#a", id: "w1")
            _ = first.take()
            jobID = try #require(first.submit("name: t\nworkload: noop\nnoop:\n  tasks: 2\n", from: "client"))
            first.turn()  // leases go out, and the turn's end commits them
            held = Self.leases(first.take(), to: "w1#a")
            #expect(held.count == 2)
            first.succeed(held[0], from: "w1#a")
            first.turn()
        }  // the first core is gone, as after kill -9 (its lock with it)
        let second = try Harness(stateDirectory: directory)
        // The worker comes back still running the second task.
        second.register("w1#a", id: "w1", running: [held[1].taskID])
        #expect(!second.take().contains { if case .cancel = $0.body { true } else { false } })
        second.succeed(held[1], from: "w1#a")
        second.turn()
        var watch = Orrery_V1_WatchJob()
        watch.jobID = jobID
        watch.once = true
        second.receive(.watchJob(watch), from: "client2")
        let job = try #require(Self.finalUpdate(second.take(), to: "client2"))
        #expect(job.state == .succeeded && job.tasksDone == 2 && job.retries == 0)
        let report = try JSONSerialization.jsonObject(with: Data(job.reportJson.utf8)) as? [String: Any]
        #expect(report?["retried"] as? Int == 0 && report?["duplicateOutcomes"] as? Int == 0)
    }
}
