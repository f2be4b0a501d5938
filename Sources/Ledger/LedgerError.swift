/// Why the ledger could not be opened, read or written. Every case names the file, so that
/// an operator knows which state directory is at fault.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The file is not a database, is truncated, or fails SQLite's integrity check.
        case corrupt
        /// The file was written by a newer Orrery (a schema this build does not know).
        case newerSchema
        /// The directory or file cannot be created, read or written (permissions, disk full).
        case io
    }

    public let kind: Kind
    public let path: String
    public let detail: String

    public init(_ kind: Kind, path: String, _ detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .corrupt:
            return "ledger \(path) is damaged (\(detail)); it was left as it is: move it aside to start "
                + "with an empty state directory, or restore it from a backup"
        case .newerSchema: return "ledger \(path) was written by a newer Orrery (\(detail)); use that version"
        case .io: return "ledger \(path): \(detail)"
        }
    }
}
