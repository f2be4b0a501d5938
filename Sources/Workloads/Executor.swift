import Foundation

/// The worker-side half of a workload: turns one task payload into a result.
///
/// One executor serves all of a worker's task threads at once, so it must be `Sendable`;
/// state such as a loaded model is immutable or guarded inside it.
public protocol Executor: Sendable {
    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput
}

/// What a running task can see of the worker: its identity, whether it was cancelled, and
/// a way to report progress.
public struct TaskContext: Sendable {
    public let taskID: String
    public let attempt: Int
    private let cancelled: @Sendable () -> Bool
    private let progress: @Sendable (Float, String) -> Void

    public init(
        taskID: String, attempt: Int, isCancelled: @escaping @Sendable () -> Bool,
        reportProgress: @escaping @Sendable (Float, String) -> Void
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.cancelled = isCancelled
        self.progress = reportProgress
    }

    /// True once the coordinator has cancelled this task; long tasks check it and throw
    /// `TaskError.cancelled`.
    public var isCancelled: Bool { cancelled() }

    /// Reports how far the task is (0...1), with an optional note.
    public func reportProgress(_ fraction: Float, _ message: String = "") { progress(fraction, message) }

    /// Throws `TaskError.cancelled` if the task was cancelled.
    public func checkCancellation() throws(TaskError) {
        if isCancelled { throw TaskError.cancelled }
    }
}

/// A task that failed in a way the executor understands.
public struct TaskError: Error, Equatable, CustomStringConvertible {
    public let message: String
    /// False when another attempt cannot succeed (the payload itself is wrong).
    public let retryable: Bool

    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }

    /// The task was cancelled; its result is not reported.
    public static let cancelled = TaskError("cancelled", retryable: false)

    public var description: String { message }
}
