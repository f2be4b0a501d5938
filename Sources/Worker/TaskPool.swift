import Dispatch
import Foundation
import Messaging
import Runtime
import Synchronization
import Wire
import Workloads

/// The threads that run leased tasks, one task per thread at a time.
///
/// The service thread submits leases; each pool thread takes the next, runs its workload's
/// executor, and sends the serialized `TaskResult` back over its own inproc PUSH socket
/// (sockets are not thread-safe, so every thread owns one). The service's poll wakes on
/// that socket, so a result leaves for the coordinator without waiting on a timer.
final class TaskPool: Sendable {
    /// A lease as the pool runs it.
    struct Item: Sendable {
        let taskID: String
        let attempt: Int
        let workload: String
        let payload: Data
    }

    /// The first byte of a frame from a pool thread.
    enum FrameTag: UInt8 {
        /// A serialized `Orrery_V1_TaskResult` follows.
        case result = 0x52
        /// The task stopped because it was cancelled; its id follows as UTF-8.
        case cancelled = 0x43
        /// The thread has closed its socket and exits.
        case exited = 0x58
    }

    private struct Shared: ~Copyable {
        var queue = FIFO<Item>()
        var cancelled: Set<String> = []
        var progress: [Orrery_V1_Progress] = []
        var stopping = false
    }

    private let shared = Mutex(Shared())
    private let available = DispatchSemaphore(value: 0)
    private let executors: [String: any Executor]
    let threadCount: Int
    let resultsEndpoint: String

    init(threads: Int, executors: [String: any Executor], resultsEndpoint: String) {
        self.threadCount = threads
        self.executors = executors
        self.resultsEndpoint = resultsEndpoint
    }

    /// Starts the threads; the PULL end of `resultsEndpoint` must already be bound.
    func start(context: ZMQContext) {
        for index in 0..<threadCount {
            let thread = Thread { [self] in self.runThread(context: context) }
            thread.name = "orrery-task-\(index)"
            thread.start()
        }
    }

    func submit(_ item: Item) {
        shared.withLock { $0.queue.push(item) }
        available.signal()
    }

    /// Marks tasks cancelled: queued ones are skipped, running ones see `isCancelled`.
    func cancel(_ taskIDs: [String]) {
        shared.withLock { state in
            for id in taskIDs { state.cancelled.insert(id) }
        }
    }

    /// Forgets a cancellation once the task's fate is known.
    func forgetCancellation(_ taskID: String) {
        _ = shared.withLock { $0.cancelled.remove(taskID) }
    }

    func isCancelled(_ taskID: String) -> Bool { shared.withLock { $0.cancelled.contains(taskID) } }

    /// Progress reported since the last call.
    func takeProgress() -> [Orrery_V1_Progress] {
        shared.withLock { state in
            defer { state.progress.removeAll(keepingCapacity: true) }
            return state.progress
        }
    }

    /// Asks every thread to exit once its current task is done; each sends `.exited`.
    func stop() {
        shared.withLock { $0.stopping = true }
        for _ in 0..<threadCount { available.signal() }
    }

    private func next() -> Item? {
        while true {
            available.wait()
            let (item, stopping) = shared.withLock { state -> (Item?, Bool) in
                (state.queue.pop(), state.stopping)
            }
            if stopping { return nil }
            if let item { return item }
        }
    }

    private func runThread(context: ZMQContext) {
        guard let socket = try? Socket(context: context, kind: .push, policy: .inproc),
            (try? socket.connect(resultsEndpoint)) != nil
        else {
            preconditionFailure("task pool cannot reach its own inproc endpoint \(resultsEndpoint)")
        }
        defer {
            try? socket.send([[FrameTag.exited.rawValue]], wait: true)
            socket.close()
        }
        while let item = next() {
            if isCancelled(item.taskID) {
                try? socket.send([[FrameTag.cancelled.rawValue] + Array(item.taskID.utf8)], wait: true)
                continue
            }
            let frame = run(item)
            try? socket.send([frame], wait: true)
        }
    }

    /// Runs one task and encodes what happened as a frame for the service thread.
    private func run(_ item: Item) -> Frame {
        let started = MonotonicClock.microseconds
        var result = Orrery_V1_TaskResult()
        result.taskID = item.taskID
        result.attempt = UInt32(item.attempt)
        let taskID = item.taskID
        let context = TaskContext(
            taskID: taskID, attempt: item.attempt,
            isCancelled: { [self] in self.isCancelled(taskID) },
            reportProgress: { [self] fraction, message in
                var progress = Orrery_V1_Progress()
                progress.taskID = taskID
                progress.fraction = fraction
                progress.message = message
                self.shared.withLock { $0.progress.append(progress) }
            })
        do {
            guard let executor = executors[item.workload] else {
                throw TaskError("this worker cannot run workload '\(item.workload)'", retryable: false)
            }
            let output = try executor.execute(item.payload, context: context)
            var success = Orrery_V1_TaskSuccess()
            success.metrics = output.metrics
            success.payload = output.payload
            result.success = success
        } catch let error as TaskError where error == .cancelled {
            return [FrameTag.cancelled.rawValue] + Array(taskID.utf8)
        } catch let error as TaskError {
            result.failure = Self.failure(error.message, retryable: error.retryable)
        } catch let error as WireError {
            result.failure = Self.failure(error.description, retryable: false)
        } catch {
            result.failure = Self.failure("\(error)", retryable: true)
        }
        result.elapsedMs = Double(MonotonicClock.microseconds - started) / 1000
        return [FrameTag.result.rawValue] + ((try? result.serializedBytes()) ?? [])
    }

    private static func failure(_ message: String, retryable: Bool) -> Orrery_V1_TaskFailure {
        var failure = Orrery_V1_TaskFailure()
        failure.message = message
        failure.retryable = retryable
        return failure
    }
}
