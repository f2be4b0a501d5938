/// A job's id: "<coordinator>-<number>", made by the coordinator, never containing "/".
///
/// Ids that arrive from the network (a client's WatchJob, a worker's result) become a
/// `JobID` once, where they are decoded; inside the core nothing handles a bare string.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as it travels on the wire and is stored in the ledger.
    public let rawValue: String

    /// Takes an id from outside (the wire, the ledger); nil for one the coordinator could
    /// not have made (empty, or containing "/").
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, !rawValue.utf8.contains(UInt8(ascii: "/")) else { return nil }
        self.rawValue = rawValue
    }

    /// An id written in code (tests, tools); it must be a valid one.
    public init(stringLiteral value: String) {
        guard let id = JobID(value) else { preconditionFailure("not a job id: \(value)") }
        self = id
    }

    /// An id read back from this coordinator's own ledger, which holds only ids it made.
    init(recorded rawValue: String) { self.rawValue = rawValue }

    /// The id of job `number` of the coordinator whose id ends in `coordinatorSuffix`.
    init(coordinatorSuffix: Substring, number: Int) {
        rawValue = "\(coordinatorSuffix)-\(number)"
    }

    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
