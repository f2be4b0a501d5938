/// A worker's id, as it registered (unique among live workers; its routing id tells
/// processes apart).
///
/// Taken from a Register frame once, after `RegistrationRules` checked it; inside the core
/// nothing handles a bare string as a worker.
public struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static func < (lhs: WorkerID, rhs: WorkerID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
