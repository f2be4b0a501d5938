import GRDB

/// The ledger's tables, as numbered migrations (GRDB records which ran in the file).
///
/// - `jobs`: one row per accepted job, its spec, and (once it ends) its state and report.
/// - `tasks`: open tasks only (planned, no outcome yet) with their attempts, the worker
///   that holds the current lease, and (v3) the worker it should go to and the task it
///   continues; a row leaves when the task's outcome is recorded.
/// - `outcomes`: every final outcome of a running job, numbered in the order the planner
///   received it, so that a planner is rebuilt by replaying them; a job's rows leave when it
///   ends (its report keeps the result).
/// - `checkpoints`: the newest checkpoint of each task of a running job (they leave with
///   the job: few tasks checkpoint, and a finished one's checkpoint is never read).
/// - `cache`: values shared across jobs, keyed by a digest of everything that produced them.
/// - `scalars`: points of every job's curves (loss, accuracy… per step), which stay while
///   the job stays, so that an ended or crashed job's curves can still be browsed.
/// - `meta`: the coordinator's id and other single values.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY NOT NULL,
                    number INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    workload TEXT NOT NULL,
                    spec_yaml TEXT NOT NULL,
                    source_name TEXT NOT NULL,
                    submitted_at INTEGER NOT NULL,
                    state INTEGER,
                    error TEXT,
                    finished_at INTEGER,
                    tasks_planned INTEGER, tasks_done INTEGER, tasks_failed INTEGER,
                    retries INTEGER, duplicates_ignored INTEGER,
                    report_text TEXT, report_json TEXT, report_files BLOB);
                CREATE TABLE tasks (
                    job_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    gang_min INTEGER,
                    gang_max INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    member_losses INTEGER NOT NULL DEFAULT 0,
                    holder TEXT,
                    position INTEGER NOT NULL,
                    cache_key TEXT,
                    PRIMARY KEY (job_id, key)) WITHOUT ROWID;
                CREATE TABLE outcomes (
                    job_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    failure TEXT,
                    metrics BLOB,
                    payload BLOB NOT NULL,
                    attempts INTEGER NOT NULL,
                    worker TEXT NOT NULL,
                    PRIMARY KEY (job_id, sequence)) WITHOUT ROWID;
                CREATE TABLE checkpoints (
                    job_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    step INTEGER NOT NULL,
                    digest TEXT NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (job_id, key)) WITHOUT ROWID;
                CREATE TABLE cache (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: scalars") { db in
            try db.execute(sql: """
                CREATE TABLE scalars (
                    job_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    task TEXT NOT NULL,
                    tag TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    value REAL,
                    wall_time REAL NOT NULL,
                    PRIMARY KEY (job_id, sequence)) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: tasks that continue others") { db in
            try db.execute(sql: """
                ALTER TABLE tasks ADD COLUMN preferred_worker TEXT;
                ALTER TABLE tasks ADD COLUMN starts_from TEXT;
                """)
        }
        return migrator
    }
}
