/// A worker setting that cannot work (an output directory that does not exist, say),
/// found when the daemon starts rather than when the first task needs it.
public struct WorkerConfigError: Error, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
