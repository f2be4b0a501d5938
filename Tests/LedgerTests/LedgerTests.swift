import Foundation
import GRDB
import Reporting
import Testing

@testable import Ledger

@Suite struct LedgerTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "orrery-ledger-\(UUID().uuidString)"
        return path
    }

    private func job(_ id: String, number: Int) -> LedgerJob {
        LedgerJob(id: id, number: number, name: "t", workload: "noop", specYAML: "name: t\nworkload: noop\n", sourceName: "t.yaml", submittedAt: 1_000)
    }

    @Test("a ledger written before v3 opens as it was: its open tasks come back, preferring no worker")
    func upgradesFromV2() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            let old = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("ledger.sqlite"))
            try LedgerSchema.migrator.migrate(old, upTo: "v2: scalars")
            try old.write { db in
                try db.execute(sql: """
                    INSERT INTO jobs (id, number, name, workload, spec_yaml, source_name, submitted_at)
                        VALUES ('a-1', 1, 't', 'noop', 'name: t', 't.yaml', 1000);
                    INSERT INTO tasks (job_id, key, payload, attempts, member_losses, holder, position)
                        VALUES ('a-1', '0', x'01', 1, 0, 'w1', 0);
                    """)
            }
        }
        let ledger = try Ledger(directory: directory)
        let open = try ledger.openTasks(jobID: "a-1")
        #expect(open == [LedgerTask(key: "0", payload: Data([1]), gang: nil, attempts: 1, holder: "w1")])
        ledger.append(.tasksPlanned(jobID: "a-1", [LedgerTask(key: "1", payload: Data(), gang: nil, preferredWorker: "w1", startsFrom: "0")]))
        try ledger.commit()
        #expect(try ledger.openTasks(jobID: "a-1").last?.startsFrom == "0")
    }

    @Test func recordsSurviveReopening() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let ledger = try Ledger(directory: directory)
            ledger.append(.jobSubmitted(job("a-1", number: 1)))
            ledger.append(.tasksPlanned(jobID: "a-1", [
                LedgerTask(key: "0", payload: Data([1]), gang: nil),
                LedgerTask(key: "1", payload: Data([2]), gang: (2, 3)),
                LedgerTask(key: "2", payload: Data([3]), gang: nil, preferredWorker: "w7"),
            ]))
            ledger.append(.leased(jobID: "a-1", key: "0", attempt: 1, holder: "w1"))
            ledger.append(.leased(jobID: "a-1", key: "2", attempt: 1, holder: "w2"))
            ledger.append(.requeued(jobID: "a-1", key: "2", attempts: 1, memberLosses: 0))
            ledger.append(.outcome(LedgerOutcome(
                jobID: "a-1", sequence: 0, key: "0", failure: nil, metrics: ["loss": 0.25, "acc": 0.5], payload: Data([9]),
                attempts: 1, worker: "w1")))
            // A failure with an empty message stays a failure (not NULL, which reads as success).
            ledger.append(.outcome(LedgerOutcome(
                jobID: "a-1", sequence: 1, key: "9", failure: "", metrics: [:], payload: Data(), attempts: 2, worker: "")))
            ledger.append(.checkpoint(LedgerCheckpoint(jobID: "a-1", key: "1", attempt: 1, step: 7, data: Data([4, 5]))))
            ledger.append(.cached(key: "k", value: Data([42])))
            #expect(ledger.hasPending)
            try ledger.commit()
            #expect(!ledger.hasPending)
        }
        let reopened = try Ledger(directory: directory)
        let jobs = try reopened.jobs()
        #expect(jobs.map(\.job) == [job("a-1", number: 1)])
        #expect(jobs.first?.end == nil)
        let open = try reopened.openTasks(jobID: "a-1")
        #expect(open.map(\.key) == ["1", "2"])
        #expect(open[0].gang?.minimum == 2 && open[0].gang?.maximum == 3)
        #expect(open[1].attempts == 1 && open[1].holder == nil)
        #expect(open[0].preferredWorker == nil && open[1].preferredWorker == "w7")
        var outcomes: [LedgerOutcome] = []
        try reopened.forEachOutcome(jobID: "a-1") { outcomes.append($0) }
        #expect(outcomes.count == 2)
        #expect(outcomes.last?.failure == "" && outcomes.last?.worker == "")
        #expect(outcomes.first?.failure == nil)
        #expect(outcomes.first?.metrics == ["loss": 0.25, "acc": 0.5])
        #expect(outcomes.first?.payload == Data([9]))
        #expect(try reopened.checkpoints(jobID: "a-1").map(\.step) == [7])
        #expect(try reopened.cached("k") == Data([42]))
        #expect(try reopened.cached("missing") == nil)
    }

    @Test func anEndedJobKeepsItsReportAndLosesItsOutcomesInSlices() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(directory: directory)
        ledger.append(.jobSubmitted(job("a-1", number: 1)))
        ledger.append(.tasksPlanned(jobID: "a-1", (0..<25).map { LedgerTask(key: "\($0)", payload: Data(), gang: nil) }))
        for index in 0..<25 {
            ledger.append(.outcome(LedgerOutcome(
                jobID: "a-1", sequence: index, key: "\(index)", failure: nil, metrics: [:], payload: Data(), attempts: 1, worker: "w")))
        }
        let end = LedgerJobEnd(
            jobID: "a-1", state: 2, error: "", finishedAt: 5, tasksPlanned: 25, tasksDone: 25, tasksFailed: 0, retries: 0,
            duplicatesIgnored: 0, reportText: "all done", reportJSON: "{}", reportFiles: ["board.csv": "a,b\n"])
        ledger.append(.jobEnded(end))
        try ledger.commit()
        #expect(try ledger.collectEndedJobs(budget: 10) == 10)
        #expect(try ledger.collectEndedJobs(budget: 10) == 10)
        #expect(try ledger.collectEndedJobs(budget: 10) == 5)
        #expect(!ledger.hasEndedJobsToCollect)
        var remaining = 0
        try ledger.forEachOutcome(jobID: "a-1") { _ in remaining += 1 }
        #expect(remaining == 0)
        #expect(try ledger.job("a-1")?.end == end)
        #expect(try ledger.openTasks(jobID: "a-1").isEmpty)
    }

    @Test func recentJobsAreNewestFirstWithoutTheirTexts() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(directory: directory)
        for number in 1...3 { ledger.append(.jobSubmitted(job("a-\(number)", number: number))) }
        ledger.append(.jobEnded(LedgerJobEnd(
            jobID: "a-2", state: 3, error: "boom", finishedAt: 9, tasksPlanned: 4, tasksDone: 3, tasksFailed: 1, retries: 0,
            duplicatesIgnored: 0, reportText: "a long report", reportJSON: "{}", reportFiles: ["f": "x"])))
        try ledger.commit()
        let (rows, total) = try ledger.recentJobs(limit: 2)
        #expect(total == 3)
        #expect(rows.map(\.job.id) == ["a-3", "a-2"])
        #expect(rows[0].end == nil && rows[0].job.specYAML.isEmpty)
        #expect(rows[1].end?.error == "boom" && rows[1].end?.tasksFailed == 1 && rows[1].end?.reportText == "")
        #expect(try ledger.job("a-2")?.end?.reportText == "a long report")
    }

    @Test func onlyTheNewestEndedJobsAreKept() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(directory: directory, keepEndedJobs: 2)
        for number in 1...5 {
            ledger.append(.jobSubmitted(job("a-\(number)", number: number)))
            ledger.append(.scalars(jobID: "a-\(number)", [CurvePoint(sequence: 1, task: "0", tag: "loss", step: 1, value: 0.5, wallTime: 1)]))
        }
        for number in [1, 2, 4, 5] {
            ledger.append(.outcome(LedgerOutcome(
                jobID: "a-\(number)", sequence: 0, key: "0", failure: nil, metrics: [:], payload: Data(), attempts: 1, worker: "w")))
            ledger.append(.jobEnded(LedgerJobEnd(
                jobID: "a-\(number)", state: 2, error: "", finishedAt: 1, tasksPlanned: 1, tasksDone: 1, tasksFailed: 0, retries: 0,
                duplicatesIgnored: 0, reportText: "", reportJSON: "{}", reportFiles: [:])))
        }
        try ledger.commit()
        // The two newest ended jobs, and the running one, whatever its age.
        #expect(try ledger.jobs().map(\.job.id) == ["a-3", "a-4", "a-5"])
        // A job's curve points leave with it.
        #expect(try (1...5).map { try ledger.scalars(jobID: "a-\($0)").count } == [0, 0, 1, 1, 1])
        while try ledger.collectEndedJobs(budget: 100) > 0 {}
        for number in 1...5 {
            var left = 0
            try ledger.forEachOutcome(jobID: "a-\(number)") { _ in left += 1 }
            #expect(left == 0)
        }
    }

    @Test func curvePointsSurviveReopeningInOrderWithNaN() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let points = [
            CurvePoint(sequence: 2, task: "trial-1", tag: "dev/accuracy", step: 1, value: 0.75, wallTime: 10.5),
            CurvePoint(sequence: 1, task: "trial-0", tag: "train/loss", step: 1, value: .nan, wallTime: 10.25),
            CurvePoint(sequence: 3, task: "trial-0", tag: "train/loss", step: 2, value: -.infinity, wallTime: 11),
        ]
        do {
            let ledger = try Ledger(directory: directory)
            ledger.append(.jobSubmitted(job("a-1", number: 1)))
            ledger.append(.scalars(jobID: "a-1", points))
            try ledger.commit()
        }
        let read = try Ledger(directory: directory).scalars(jobID: "a-1")
        #expect(read.map(\.sequence) == [1, 2, 3])
        #expect(read[0].value.isNaN && read[0].task == "trial-0" && read[0].wallTime == 10.25)
        #expect(read[1] == points[0] && read[2].value == -.infinity)
    }

    @Test func aDamagedFileIsRefusedByNameAndLeftAsItIs() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let ledger = try Ledger(directory: directory)
            ledger.append(.jobSubmitted(job("a-1", number: 1)))
            try ledger.commit()
        }
        let path = directory + "/ledger.sqlite"
        // Checkpoint the WAL into the main file, then cut the file short.
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        for damaged in [Data(repeating: 0xA5, count: 8192), whole.prefix(100), Data("not a database at all".utf8)] {
            try damaged.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: LedgerError.self) { try Ledger(directory: directory) }
            #expect(error?.kind == .corrupt)
            #expect(error?.description.contains(path) == true)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == damaged)
        }
    }

    @Test func oneCoordinatorPerStateDirectory() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try Ledger(directory: directory)
        let error = #expect(throws: LedgerError.self) { try Ledger(directory: directory) }
        #expect(error?.description.contains("another coordinator (pid \(getpid()))") == true)
        _ = first
    }

    @Test func metricsRoundTripAndDamageIsDetected() {
        let metrics = ["accuracy": 0.875, "loss": -1.5e-7, "ünïcode": .infinity]
        let encoded = MetricsCoding.encode(metrics)
        #expect(MetricsCoding.decode(encoded) == metrics)
        #expect(MetricsCoding.encode([:]) == nil)
        #expect(MetricsCoding.decode(nil) == [:])
        #expect(MetricsCoding.decode(encoded!.dropLast()) == nil)
    }
}
