import Collectives
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
    /// Set when the task runs on a gang of workers: this member's place in it.
    public let gang: Gang?
    /// The last checkpoint an earlier attempt of this task committed, to resume from; for
    /// a first attempt of a task that continues another (`PlannedTask.startsFrom`) on a
    /// worker other than its preferred one, that task's last checkpoint.
    public let resume: TaskCheckpoint?
    /// Where the task may write files; nil when it runs in the user's own process
    /// (`orrery train`), where paths are taken as given.
    public let outputDirectory: OutputDirectory?
    private let cancelled: @Sendable () -> Bool
    private let progress: @Sendable (Float, String) -> Void
    private let scalars: @Sendable ([TaskScalar]) -> Void
    private let checkpoint: @Sendable (TaskCheckpoint) -> Void

    public init(
        taskID: String, attempt: Int, gang: Gang? = nil, resume: TaskCheckpoint? = nil,
        outputDirectory: OutputDirectory? = nil,
        isCancelled: @escaping @Sendable () -> Bool,
        reportProgress: @escaping @Sendable (Float, String) -> Void,
        recordScalars: @escaping @Sendable ([TaskScalar]) -> Void = { _ in },
        commitCheckpoint: @escaping @Sendable (TaskCheckpoint) -> Void = { _ in }
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.gang = gang
        self.resume = resume
        self.outputDirectory = outputDirectory
        self.cancelled = isCancelled
        self.progress = reportProgress
        self.scalars = recordScalars
        self.checkpoint = commitCheckpoint
    }

    /// Sends `checkpoint` to the coordinator's storage; a later attempt of this task (after
    /// a worker died, say) receives the newest one as `resume`.
    public func commitCheckpoint(_ checkpoint: TaskCheckpoint) { self.checkpoint(checkpoint) }

    /// True once the coordinator has cancelled this task; long tasks check it and throw
    /// `TaskError.cancelled`.
    public var isCancelled: Bool { cancelled() }

    /// Reports how far the task is (0...1), with an optional note.
    public func reportProgress(_ fraction: Float, _ message: String = "") { progress(fraction, message) }

    /// Records points of the task's curves (`train/loss` at epoch 3, say): the coordinator
    /// keeps them for its dashboard and API, and clients write them to TensorBoard files.
    public func record(_ scalars: [TaskScalar]) {
        if !scalars.isEmpty { self.scalars(scalars) }
    }

    /// Records `values` (tag → value) at one step.
    public func record(step: Int, _ values: KeyValuePairs<String, Double>) {
        record(values.map { TaskScalar(tag: $0.key, step: Int64(step), value: $0.value) })
    }

    /// Where the task may write `requested`: the path itself in the user's own process,
    /// inside the worker's output directory otherwise (an error if it would leave it).
    public func outputPath(_ requested: String) throws(TaskError) -> String {
        guard let outputDirectory else { return requested }
        return try outputDirectory.resolve(requested)
    }

    /// Throws `TaskError.cancelled` if the task was cancelled.
    public func checkCancellation() throws(TaskError) {
        if isCancelled { throw TaskError.cancelled }
    }
}

/// One point of one of a task's curves: `tag` (e.g. "train/loss") at `step`.
public struct TaskScalar: Sendable, Equatable {
    public let tag: String
    public let step: Int64
    public let value: Double

    public init(tag: String, step: Int64, value: Double) {
        self.tag = tag
        self.step = step
        self.value = value
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

/// A task's saved state: how far it got, and whatever bytes its executor needs to go on.
public struct TaskCheckpoint: Sendable, Equatable {
    public let step: Int
    public let data: Data

    public init(step: Int, data: Data) {
        self.step = step
        self.data = data
    }
}

/// One member's view of the gang a task runs on: its ring and how to connect to it.
public struct Gang: Sendable {
    public let topology: RingTopology
    /// The worker behind each rank, for messages that name them.
    public let workerIDs: [String]
    private let connect: @Sendable (@escaping @Sendable () -> Bool) throws(CollectiveError) -> Communicator

    public init(
        topology: RingTopology, workerIDs: [String],
        connect: @escaping @Sendable (@escaping @Sendable () -> Bool) throws(CollectiveError) -> Communicator
    ) {
        self.topology = topology
        self.workerIDs = workerIDs
        self.connect = connect
    }

    /// Opens this member's communicator; it stops waiting as soon as `isCancelled` is true.
    public func makeCommunicator(isCancelled: @escaping @Sendable () -> Bool) throws(CollectiveError) -> Communicator {
        try connect(isCancelled)
    }
}
