/// One point of one of a job's curves: what task `task` reported for `tag` at `step`.
public struct CurvePoint: Sendable, Equatable, Codable {
    /// Job-wide and increasing: the order points arrived in, and a cursor for readers that
    /// fetch only what is new.
    public var sequence: UInt64
    public var task: String
    public var tag: String
    public var step: Int64
    public var value: Double
    /// When the coordinator received it, seconds since 1970.
    public var wallTime: Double

    public init(sequence: UInt64, task: String, tag: String, step: Int64, value: Double, wallTime: Double) {
        self.sequence = sequence
        self.task = task
        self.tag = tag
        self.step = step
        self.value = value
        self.wallTime = wallTime
    }
}
