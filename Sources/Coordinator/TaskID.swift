/// A task's id: its job and the key its planner gave it. On the wire it is "JOB/KEY"; it is
/// made and taken apart here only.
///
/// Job ids never contain "/" (the coordinator makes them); keys may, so the job is what
/// comes before the first one. Equality and hashing use the wire form alone, which is what
/// the lease table's dictionaries key on.
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// "JOB/KEY", as leases, results and cancels carry it.
    public let wire: String
    public let job: JobID

    public init(job: JobID, key: String) {
        self.job = job
        self.wire = job.rawValue + "/" + key
    }

    /// Takes a task id from the wire; nil for one without a job part (not made here).
    public init?(wire: String) {
        guard let slash = wire.utf8.firstIndex(of: UInt8(ascii: "/")),
            let job = JobID(String(wire[..<slash]))
        else { return nil }
        self.job = job
        self.wire = wire
    }

    /// An id written in code (tests, tools) in its wire form; it must be a valid one.
    public init(stringLiteral value: String) {
        guard let id = TaskID(wire: value) else { preconditionFailure("not a task id: \(value)") }
        self = id
    }

    /// The planner's key.
    public var key: String {
        String(wire.utf8.dropFirst(job.rawValue.utf8.count + 1))!
    }

    public static func == (lhs: TaskID, rhs: TaskID) -> Bool { lhs.wire == rhs.wire }
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.wire < rhs.wire }
    public func hash(into hasher: inout Hasher) { hasher.combine(wire) }
    public var description: String { wire }
}
