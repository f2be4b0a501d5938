/// When a commit reaches the disk.
///
/// The ledger runs SQLite in WAL mode. Either way a killed process (kill -9, a crash) loses
/// nothing that was committed: committed pages are in the WAL file, which the operating
/// system holds. The policies differ on a power loss or kernel crash:
/// - `normal` (the default): SQLite syncs the WAL only at checkpoints, so the last commits
///   before the power loss can be rolled back; the database stays consistent, and the
///   coordinator resumes from the last synced state (tasks whose results were rolled back
///   run again; none is counted twice).
/// - `full`: every commit is synced before the coordinator sends what depends on it, so a
///   power loss loses nothing acknowledged; each commit then costs an fsync.
public enum LedgerDurability: String, Sendable, CaseIterable {
    case normal
    case full
}
