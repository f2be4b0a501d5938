import Foundation
import Testing
import Wire

@testable import Coordinator

/// Curve points through the core: only a lease holder's count, bad tags are dropped,
/// watchers get each point once per broadcast, a restarted core has them from the ledger.
@Suite("Curve points, without sockets")
struct CurvePointTests {
    typealias Harness = CoordinatorCoreTests.Harness

    static func progress(_ taskID: String, _ scalars: [(String, Int64, Double)]) -> EnvelopeBody {
        var item = Orrery_V1_Progress()
        item.taskID = taskID
        item.scalars = scalars.map { tag, step, value in
            var scalar = Orrery_V1_Scalar()
            scalar.tag = tag
            scalar.step = step
            scalar.value = value
            return scalar
        }
        var batch = Orrery_V1_ProgressBatch()
        batch.items = [item]
        return .progress(batch)
    }

    static func points(_ sent: [(peer: String, body: EnvelopeBody)], to peer: String) -> [Orrery_V1_CurvePoint] {
        sent.filter { $0.peer == peer }.flatMap { message -> [Orrery_V1_CurvePoint] in
            if case .jobUpdate(let update) = message.body { update.points } else { [] }
        }
    }

    @Test("the holder's points are kept and streamed once; a stranger's, an empty tag and a 201-byte tag are not")
    func holderOnly() throws {
        let directory = NSTemporaryDirectory() + "orrery-curves-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var jobID = ""
        do {
            let harness = try Harness(stateDirectory: directory)
            harness.register("w1#a", id: "w1")
            harness.register("w2#a", id: "w2")
            _ = harness.take()
            jobID = try #require(harness.submit("name: t\nworkload: noop\nnoop:\n  tasks: 1\n", from: "client"))
            harness.turn()
            let sent = harness.take()
            let lease = try #require((CoordinatorCoreTests.leases(sent, to: "w1#a") + CoordinatorCoreTests.leases(sent, to: "w2#a")).first)
            let holder = CoordinatorCoreTests.leases(sent, to: "w1#a").isEmpty ? "w2#a" : "w1#a"
            let stranger = holder == "w1#a" ? "w2#a" : "w1#a"

            harness.receive(Self.progress(lease.taskID, [("loss", 1, 2.5), ("", 1, 9), (String(repeating: "x", count: 201), 1, 9)]), from: holder)
            harness.receive(Self.progress(lease.taskID, [("loss", 99, 99)]), from: stranger)
            harness.clock.advance(milliseconds: 1_000)
            harness.turn()
            let first = Self.points(harness.take(), to: "client")
            #expect(first.map(\.tag) == ["loss"] && first.map(\.value) == [2.5] && first.map(\.sequence) == [1])
            #expect(first.first?.task == "0")

            harness.receive(Self.progress(lease.taskID, [("loss", 2, 1.5), ("loss", 3, .nan)]), from: holder)
            harness.clock.advance(milliseconds: 1_000)
            harness.turn()
            let second = Self.points(harness.take(), to: "client")
            #expect(second.map(\.sequence) == [2, 3], "a broadcast carries only what is new")
            #expect(second.last?.value.isNaN == true)
            harness.succeed(lease, from: holder)
            harness.turn()
            _ = harness.take()
        }
        // A new core on the ledger: the ended job's points, NaN included.
        let restarted = try Harness(stateDirectory: directory)
        let curves = try #require(restarted.core.curvesView(jobID, after: 0, limit: 100))
        #expect(curves.points.map(\.step) == [1, 2, 3])
        #expect(curves.points[2].value.isNaN)
        #expect(restarted.core.curvesView(jobID, after: 2, limit: 100)?.points.map(\.sequence) == [3])
        #expect(restarted.core.curvesView("no-such-job", after: 0, limit: 100) == nil)
    }

    @Test("a job running when its coordinator dies keeps its points: the restarted core resumes them and numbers on")
    func resumedJobKeepsItsCurves() throws {
        let directory = NSTemporaryDirectory() + "orrery-curves-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var jobID = ""
        var lease = Orrery_V1_TaskLease()
        do {
            let first = try Harness(stateDirectory: directory)
            first.register("w1#a", id: "w1")
            _ = first.take()
            jobID = try #require(first.submit("name: t\nworkload: noop\nnoop:\n  tasks: 1\n", from: "client"))
            first.turn()
            lease = try #require(CoordinatorCoreTests.leases(first.take(), to: "w1#a").first)
            first.receive(Self.progress(lease.taskID, [("loss", 1, 3.0), ("loss", 2, 2.0)]), from: "w1#a")
            first.turn()  // the turn's end commits the points
        }  // gone, as after kill -9
        let second = try Harness(stateDirectory: directory)
        #expect(second.core.curvesView(jobID, after: 0, limit: 100)?.points.map(\.value) == [3.0, 2.0])
        // The worker comes back with its task; its next point is numbered after the old ones.
        second.register("w1#a", id: "w1", running: [lease.taskID])
        second.receive(Self.progress(lease.taskID, [("loss", 3, 1.0)]), from: "w1#a")
        #expect(second.core.curvesView(jobID, after: 0, limit: 100)?.points.map(\.sequence) == [1, 2, 3])
        // A client that watches again gets every point, once.
        var watch = Orrery_V1_WatchJob()
        watch.jobID = jobID
        second.receive(.watchJob(watch), from: "client2")
        #expect(Self.points(second.take(), to: "client2").map(\.step) == [1, 2, 3])
        watch.once = true
        second.receive(.watchJob(watch), from: "client3")
        let once = second.take().filter { $0.peer == "client3" }
        #expect(once.count == 1 && Self.points(once, to: "client3").isEmpty, "a one-off look carries no points")
    }
}
