import Foundation
import GRDB
import Reporting
import Runtime

/// The coordinator's durable record: a SQLite file (`ledger.sqlite`) in its state directory.
///
/// Writes are appended (`append`) as things happen and committed in one transaction per
/// group (`commit`): the coordinator commits before it sends any frame, so nothing a worker
/// or client is told depends on state a crash could lose. See `LedgerSchema` for the tables
/// and `LedgerDurability` for what a power loss can cost.
///
/// One coordinator uses a state directory at a time: an exclusive lock on `lock` in it is
/// taken when the ledger opens and held for the life of the process (the kernel drops it
/// when the process dies, however it dies).
public final class Ledger {
    public let path: String
    private let queue: DatabaseQueue
    private var pending: [LedgerRecord] = []
    /// Tasks planned since the last commit, written first in the next one; a lease or a
    /// requeue of one of them changes its row here instead of adding an UPDATE (a task is
    /// usually planned and leased in the same turn of the coordinator's loop).
    private var planned: [(jobID: String, task: LedgerTask)] = []
    private var plannedIndex: [String: Int] = [:]
    private let lockDescriptor: Int32
    /// Jobs that ended with outcome rows still to delete, a slice at a time.
    private var endedWithOutcomes: [String] = []
    /// Where the next planned task goes in planning order (open tasks are read back in it).
    private var nextTaskPosition: Int64 = 0

    /// Opens (or creates) the ledger in `directory`.
    /// - Throws: `LedgerError` naming the file: `.corrupt` for a file that is not a
    ///   database or fails its integrity check (it is never replaced), `.newerSchema`, or
    ///   `.io` (including another coordinator holding the directory).
    /// Ended jobs kept (the newest); older ones leave the ledger as new ones end.
    public let keepEndedJobs: Int

    public init(directory: String, durability: LedgerDurability = .normal, keepEndedJobs: Int = 10_000) throws(LedgerError) {
        self.keepEndedJobs = max(1, keepEndedJobs)
        path = (directory as NSString).appendingPathComponent("ledger.sqlite")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.io, path: directory, "cannot create the state directory: \(error.localizedDescription)")
        }
        lockDescriptor = try Self.lock(directory: directory)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.label = "orrery-ledger"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // One process uses the file (the directory lock says so): without the shared
            // WAL index, a transaction skips the locking system calls it would otherwise make.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.write { db in
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    throw LedgerError(.corrupt, path: path, "integrity check: \(check.prefix(3).joined(separator: "; "))")
                }
                if try LedgerSchema.migrator.hasBeenSuperseded(db) {
                    throw LedgerError(.newerSchema, path: path, "unknown migrations in the file")
                }
            }
            try LedgerSchema.migrator.migrate(queue)
            nextTaskPosition = try queue.read { db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM tasks") ?? 0
            }
            endedWithOutcomes = try queue.read { db in
                try String.fetchAll(db, sql: """
                    SELECT DISTINCT job_id FROM outcomes WHERE job_id NOT IN (SELECT id FROM jobs WHERE state IS NULL)
                    """)
            }
        } catch let error as LedgerError {
            close(lockDescriptor)
            throw error
        } catch {
            close(lockDescriptor)
            throw Self.describe(error, path: path)
        }
    }

    deinit { close(lockDescriptor) }

    private static func lock(directory: String) throws(LedgerError) -> Int32 {
        let lockPath = (directory as NSString).appendingPathComponent("lock")
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LedgerError(.io, path: lockPath, "cannot open: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw LedgerError(.io, path: lockPath, "another coordinator\(holder.isEmpty ? "" : " (pid \(holder))") uses this state directory")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { Glibc.write(descriptor, $0, strlen($0)) }
        return descriptor
    }

    /// A GRDB or SQLite error as a ledger error naming the file.
    static func describe(_ error: Error, path: String) -> LedgerError {
        if let error = error as? LedgerError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT, .SQLITE_FORMAT:
                return LedgerError(.corrupt, path: path, error.message ?? "\(error.resultCode)")
            default:
                return LedgerError(.io, path: path, error.message ?? "\(error.resultCode)")
            }
        }
        return LedgerError(.io, path: path, "\(error)")
    }

    // MARK: Writing

    /// Adds a change to the next commit.
    public func append(_ record: LedgerRecord) {
        switch record {
        case .tasksPlanned(let jobID, let tasks):
            for task in tasks {
                plannedIndex[Self.taskKey(jobID, task.key)] = planned.count
                planned.append((jobID, task))
            }
        case .leased(let jobID, let key, let attempt, let holder):
            guard let index = plannedIndex[Self.taskKey(jobID, key)] else { return pending.append(record) }
            planned[index].task.attempts = attempt
            planned[index].task.holder = holder
        case .requeued(let jobID, let key, let attempts, let memberLosses):
            guard let index = plannedIndex[Self.taskKey(jobID, key)] else { return pending.append(record) }
            planned[index].task.attempts = attempts
            planned[index].task.memberLosses = memberLosses
            planned[index].task.holder = nil
        default:
            pending.append(record)
        }
    }

    private static func taskKey(_ jobID: String, _ key: String) -> String { jobID + "/" + key }

    public var hasPending: Bool { !pending.isEmpty || !planned.isEmpty }

    /// Writes every appended change in one transaction.
    /// - Throws: `LedgerError`; the changes stay pending, so a later commit may retry them.
    public func commit() throws(LedgerError) {
        guard hasPending else { return }
        do {
            try queue.inTransaction { db in
                // Planned tasks first: later records (an outcome, a job's end) may remove them.
                try insert(planned, db)
                for record in pending { try write(record, db) }
                return .commit
            }
            pending.removeAll(keepingCapacity: true)
            planned.removeAll(keepingCapacity: true)
            plannedIndex.removeAll(keepingCapacity: true)
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    private func write(_ record: LedgerRecord, _ db: Database) throws {
        switch record {
        case .jobSubmitted(let job):
            try db.cachedStatement(sql: "INSERT INTO jobs (id, number, name, workload, spec_yaml, source_name, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [job.id, job.number, job.name, job.workload, job.specYAML, job.sourceName, job.submittedAt])
        case .tasksPlanned(let jobID, let tasks):
            try insert(tasks.map { (jobID, $0) }, db)
        case .leased(let jobID, let key, let attempt, let holder):
            try HotStatement.run(
                try db.cachedStatement(sql: "UPDATE tasks SET attempts = ?, holder = ? WHERE job_id = ? AND key = ?"),
                [.int(attempt), .text(holder), .text(jobID), .text(key)], in: db)
        case .requeued(let jobID, let key, let attempts, let memberLosses):
            try db.cachedStatement(sql: "UPDATE tasks SET attempts = ?, member_losses = ?, holder = NULL WHERE job_id = ? AND key = ?")
                .execute(arguments: [attempts, memberLosses, jobID, key])
        case .outcome(let outcome):
            try HotStatement.run(
                try db.cachedStatement(sql: """
                    INSERT INTO outcomes (job_id, sequence, key, failure, metrics, payload, attempts, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """),
                [
                    .text(outcome.jobID), .int(outcome.sequence), .text(outcome.key), .text(outcome.failure),
                    MetricsCoding.encode(outcome.metrics).map { .blob($0) } ?? .null, .blob(outcome.payload), .int(outcome.attempts),
                    .text(outcome.worker),
                ], in: db)
            try HotStatement.run(
                try db.cachedStatement(sql: "DELETE FROM tasks WHERE job_id = ? AND key = ?"), [.text(outcome.jobID), .text(outcome.key)],
                in: db)
        case .checkpoint(let checkpoint):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO checkpoints (job_id, key, attempt, step, digest, data) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    checkpoint.jobID, checkpoint.key, checkpoint.attempt, Int64(checkpoint.step), Self.digest(checkpoint.data),
                    checkpoint.data,
                ])
        case .jobEnded(let end):
            let files = try JSONEncoder().encode(end.reportFiles)
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = ?, error = ?, finished_at = ?, tasks_planned = ?, tasks_done = ?, tasks_failed = ?,
                    retries = ?, duplicates_ignored = ?, report_text = ?, report_json = ?, report_files = ? WHERE id = ?
                """).execute(arguments: [
                    end.state, end.error, end.finishedAt, Int64(end.tasksPlanned), Int64(end.tasksDone), Int64(end.tasksFailed),
                    Int64(end.retries), Int64(end.duplicatesIgnored), end.reportText, end.reportJSON, files, end.jobID,
                ])
            // Open tasks of an ended job are a bounded set (a planner's window); its
            // outcomes may be millions, and leave a slice at a time (`collectEndedJobs`).
            try db.execute(sql: "DELETE FROM tasks WHERE job_id = ?", arguments: [end.jobID])
            try db.execute(sql: "DELETE FROM checkpoints WHERE job_id = ?", arguments: [end.jobID])
            endedWithOutcomes.append(end.jobID)
            // Retention: past the newest `keepEndedJobs` ended jobs, the oldest leave (their
            // outcome rows, if any are left, go with the collector above).
            try db.execute(
                sql: """
                    DELETE FROM scalars WHERE job_id IN
                        (SELECT id FROM jobs WHERE state IS NOT NULL ORDER BY number DESC LIMIT -1 OFFSET ?)
                    """, arguments: [keepEndedJobs])
            try db.execute(
                sql: """
                    DELETE FROM jobs WHERE id IN
                        (SELECT id FROM jobs WHERE state IS NOT NULL ORDER BY number DESC LIMIT -1 OFFSET ?)
                    """, arguments: [keepEndedJobs])
        case .cached(let key, let value):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)").execute(arguments: [key, value])
        case .scalars(let jobID, let points):
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO scalars (job_id, sequence, task, tag, step, value, wall_time) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for point in points {
                // SQLite stores NaN as NULL; it is read back as NaN.
                try insert.execute(arguments: [
                    jobID, Int64(clamping: point.sequence), point.task, point.tag, point.step, point.value.isNaN ? nil : point.value, point.wallTime,
                ])
            }
        }
    }

    private func insert(_ tasks: [(jobID: String, task: LedgerTask)], _ db: Database) throws {
        guard !tasks.isEmpty else { return }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO tasks (job_id, key, payload, gang_min, gang_max, attempts, member_losses, holder, position, cache_key, preferred_worker, starts_from)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (jobID, task) in tasks {
            try HotStatement.run(insert, [
                .text(jobID), .text(task.key), .blob(task.payload), task.gang.map { .int($0.minimum) } ?? .null,
                task.gang.map { .int($0.maximum) } ?? .null, .int(task.attempts), .int(task.memberLosses), .text(task.holder),
                .int(nextTaskPosition), .text(task.cacheKey), .text(task.preferredWorker), .text(task.startsFrom),
            ], in: db)
            nextTaskPosition += 1
        }
    }

    /// Deletes up to `budget` outcome rows of ended jobs (their reports keep the result);
    /// returns how many it deleted. Called a slice per turn, so that the end of a job of
    /// millions of tasks never stalls the coordinator.
    @discardableResult
    public func collectEndedJobs(budget: Int) throws(LedgerError) -> Int {
        guard let jobID = endedWithOutcomes.first else { return 0 }
        do {
            let deleted = try queue.write { db -> Int in
                try db.execute(
                    sql: """
                        DELETE FROM outcomes WHERE job_id = ? AND sequence IN
                            (SELECT sequence FROM outcomes WHERE job_id = ? ORDER BY sequence LIMIT ?)
                        """, arguments: [jobID, jobID, budget])
                return db.changesCount
            }
            if deleted < budget { endedWithOutcomes.removeFirst() }
            return deleted
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Whether ended jobs still have outcome rows to delete.
    public var hasEndedJobsToCollect: Bool { !endedWithOutcomes.isEmpty }

    /// Sets a single value at once (outside the group commit).
    public func setMeta(_ key: String, _ value: String) throws(LedgerError) {
        do {
            try queue.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    // MARK: Reading

    private func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    public func meta(_ key: String) throws(LedgerError) -> String? {
        try read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Every job, oldest first.
    public func jobs() throws(LedgerError) -> [LedgerJobRow] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY number").map(Self.jobRow) }
    }

    /// The newest `limit` jobs, newest first, without their specs and reports (whose text
    /// can be large), and how many jobs there are in all.
    public func recentJobs(limit: Int) throws(LedgerError) -> (jobs: [LedgerJobRow], total: Int) {
        try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, number, name, workload, '' AS spec_yaml, source_name, submitted_at, state, error, finished_at,
                        tasks_planned, tasks_done, tasks_failed, retries, duplicates_ignored, '' AS report_text, '' AS report_json,
                        NULL AS report_files
                    FROM jobs ORDER BY number DESC LIMIT ?
                    """, arguments: [limit])
            return (try rows.map(Self.jobRow), total)
        }
    }

    /// One job, or nil if the ledger never saw it.
    public func job(_ id: String) throws(LedgerError) -> LedgerJobRow? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobRow) }
    }

    private static func jobRow(_ row: Row) throws -> LedgerJobRow {
        let job = LedgerJob(
            id: row["id"], number: row["number"], name: row["name"], workload: row["workload"], specYAML: row["spec_yaml"], sourceName: row["source_name"],
            submittedAt: row["submitted_at"])
        guard let state: Int = row["state"] else { return LedgerJobRow(job: job, end: nil) }
        let filesData: Data? = row["report_files"]
        let files = try filesData.map { try JSONDecoder().decode([String: String].self, from: $0) } ?? [:]
        let end = LedgerJobEnd(
            jobID: job.id, state: state, error: row["error"] ?? "", finishedAt: row["finished_at"] ?? 0,
            tasksPlanned: UInt64(row["tasks_planned"] as Int64? ?? 0), tasksDone: UInt64(row["tasks_done"] as Int64? ?? 0),
            tasksFailed: UInt64(row["tasks_failed"] as Int64? ?? 0), retries: UInt64(row["retries"] as Int64? ?? 0),
            duplicatesIgnored: UInt64(row["duplicates_ignored"] as Int64? ?? 0), reportText: row["report_text"] ?? "",
            reportJSON: row["report_json"] ?? "", reportFiles: files)
        return LedgerJobRow(job: job, end: end)
    }

    /// A job's open tasks, in the order they were planned.
    public func openTasks(jobID: String) throws(LedgerError) -> [LedgerTask] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE job_id = ? ORDER BY position", arguments: [jobID]).map { row in
                let minimum: Int? = row["gang_min"]
                let maximum: Int? = row["gang_max"]
                return LedgerTask(
                    key: row["key"], payload: row["payload"], gang: minimum.flatMap { lo in maximum.map { (lo, $0) } },
                    attempts: row["attempts"], memberLosses: row["member_losses"], holder: row["holder"], cacheKey: row["cache_key"],
                    preferredWorker: row["preferred_worker"], startsFrom: row["starts_from"])
            }
        }
    }

    /// Passes a job's outcomes to `body` in the order its planner received them, without
    /// holding them all in memory.
    public func forEachOutcome(jobID: String, _ body: (LedgerOutcome) throws -> Void) throws(LedgerError) {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM outcomes WHERE job_id = ? ORDER BY sequence", arguments: [jobID])
            while let row = try rows.next() {
                let metricsData: Data? = row["metrics"]
                guard let metrics = MetricsCoding.decode(metricsData) else {
                    throw LedgerError(.corrupt, path: path, "outcome \(row["sequence"] as Int) of job \(jobID) has unreadable metrics")
                }
                try body(LedgerOutcome(
                    jobID: jobID, sequence: row["sequence"], key: row["key"], failure: row["failure"], metrics: metrics,
                    payload: row["payload"], attempts: row["attempts"], worker: row["worker"]))
            }
        }
    }

    /// The newest checkpoints of a job's open tasks.
    public func checkpoints(jobID: String) throws(LedgerError) -> [LedgerCheckpoint] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM checkpoints WHERE job_id = ?", arguments: [jobID]).compactMap { row in
                let data: Data = row["data"]
                let digest: String = row["digest"]
                guard Self.digest(data) == digest else {
                    throw LedgerError(.corrupt, path: path, "checkpoint of task \(jobID)/\(row["key"] as String) does not match its digest")
                }
                return LedgerCheckpoint(
                    jobID: jobID, key: row["key"], attempt: row["attempt"], step: UInt64(row["step"] as Int64), data: data)
            }
        }
    }

    /// A job's curve points, in sequence order.
    public func scalars(jobID: String) throws(LedgerError) -> [CurvePoint] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM scalars WHERE job_id = ? ORDER BY sequence", arguments: [jobID]).map { row in
                CurvePoint(
                    sequence: UInt64(clamping: row["sequence"] as Int64), task: row["task"], tag: row["tag"], step: row["step"],
                    value: row["value"] as Double? ?? .nan, wallTime: row["wall_time"])
            }
        }
    }

    /// A value from the cross-job cache.
    public func cached(_ key: String) throws(LedgerError) -> Data? {
        try read { try Data.fetchOne($0, sql: "SELECT value FROM cache WHERE key = ?", arguments: [key]) }
    }
}

extension Ledger {
    /// The hex sha256 a checkpoint is stored and checked with.
    static func digest(_ data: Data) -> String {
        var hash = SHA256()
        hash.update(data)
        return hash.finalize()
    }
}
