import Collectives
import Dispatch
import Foundation
import Logging
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
        /// Set for a gang task: this worker's place in the ring.
        var ring: Orrery_V1_RingAssignment?
        /// The checkpoint to resume from.
        var resume: TaskCheckpoint?
    }

    /// The first byte of a frame from a pool thread.
    enum FrameTag: UInt8 {
        /// A serialized `Orrery_V1_TaskResult` follows.
        case result = 0x52
        /// The task stopped because it was cancelled; a serialized `Orrery_V1_TaskResult`
        /// without an outcome follows (its id and attempt).
        case cancelled = 0x43
        /// A serialized `Orrery_V1_Checkpoint` follows, for the coordinator.
        case checkpoint = 0x4B
        /// The thread has closed its socket and exits.
        case exited = 0x58
    }

    private struct Shared: ~Copyable {
        var queue = FIFO<Item>()
        /// The highest cancelled attempt of each task: a new attempt of the same task (a
        /// re-formed gang) is not cancelled by an order meant for the old one.
        var cancelled: [String: Int] = [:]
        /// The newest attempt submitted of each task.
        var latest: [String: Int] = [:]
        var progress: [Orrery_V1_Progress] = []
        var stopping = false
    }

    private let shared = Mutex(Shared())
    private let metrics = WorkerMetrics()
    private let available = DispatchSemaphore(value: 0)
    private let executors: [String: any Executor]
    let threadCount: Int
    let resultsEndpoint: String
    /// Where gang peers reach this worker; nil when it has no data plane.
    let dataPlane: DataPlaneEndpoint?
    private let sharedContext = Mutex<ZMQContext?>(nil)
    /// Where tasks may write files (and checkpoints too large for a frame, `CheckpointFile`).
    let outputDirectory: OutputDirectory?
    /// Checkpoints above this many bytes are committed as files (`CheckpointFile`).
    let checkpointInlineLimit: Int
    private let logger: Logger

    init(
        threads: Int, executors: [String: any Executor], resultsEndpoint: String, dataPlane: DataPlaneEndpoint?,
        outputDirectory: OutputDirectory? = nil, checkpointInlineLimit: Int = CheckpointFile.inlineLimit,
        logger: Logger = Logger(label: "orrery.worker.tasks")
    ) {
        self.outputDirectory = outputDirectory
        self.checkpointInlineLimit = checkpointInlineLimit
        self.logger = logger
        self.threadCount = threads
        self.executors = executors
        self.resultsEndpoint = resultsEndpoint
        self.dataPlane = dataPlane
    }

    /// Starts the threads; the PULL end of `resultsEndpoint` must already be bound.
    func start(context: ZMQContext) {
        sharedContext.withLock { $0 = context }
        for index in 0..<threadCount {
            let thread = Thread { [self] in self.runThread(context: context) }
            thread.name = "orrery-task-\(index)"
            thread.start()
        }
    }

    func submit(_ item: Item) {
        shared.withLock { state in
            state.queue.push(item)
            state.latest[item.taskID] = max(state.latest[item.taskID] ?? 0, item.attempt)
        }
        available.signal()
    }

    /// Marks every attempt so far of these tasks cancelled: queued ones are skipped,
    /// running ones see `isCancelled`.
    func cancel(_ taskIDs: [String]) {
        shared.withLock { state in
            // Only attempts this pool has seen: a cancel that arrives after its task already
            // ended must not cancel a later attempt of the same task in advance.
            for id in taskIDs {
                if let latest = state.latest[id] { state.cancelled[id] = latest }
            }
        }
    }

    /// Forgets a task once its newest attempt's fate is known.
    func forget(_ taskID: String, attempt: Int) {
        shared.withLock { state in
            if state.latest[taskID] == attempt {
                state.latest[taskID] = nil
                state.cancelled[taskID] = nil
            }
        }
    }

    func isCancelled(_ taskID: String, attempt: Int) -> Bool {
        shared.withLock { state in state.cancelled[taskID].map { attempt <= $0 } ?? false }
    }

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
            if isCancelled(item.taskID, attempt: item.attempt) {
                try? socket.send([Self.cancelledFrame(item)], wait: true)
                continue
            }
            metrics.started()
            let started = MonotonicClock.microseconds
            let (frame, ending, final) = run(item, socket: socket)
            metrics.ended(workload: item.workload, ending, microseconds: MonotonicClock.microseconds - started)
            try? socket.send([frame], wait: true)
            // The finished task's state follows its result, never ahead of it.
            if let final, let checkpoint = checkpointFrame(final, taskID: item.taskID, attempt: item.attempt) {
                try? socket.send([checkpoint], wait: true)
            }
        }
    }

    /// Runs one task and encodes what happened as a frame for the service thread, with the
    /// final checkpoint a success hands on (`TaskOutput.finalCheckpoint`).
    private func run(_ item: Item, socket: Socket) -> (Frame, WorkerMetrics.Ending, TaskCheckpoint?) {
        let started = MonotonicClock.microseconds
        var result = Orrery_V1_TaskResult()
        result.taskID = item.taskID
        result.attempt = UInt32(item.attempt)
        var final: TaskCheckpoint?
        do {
            let output = try execute(item, socket: socket)
            var success = Orrery_V1_TaskSuccess()
            success.metrics = output.metrics
            success.payload = output.payload
            result.success = success
            final = output.finalCheckpoint
        } catch let error as TaskError where error == .cancelled {
            return (Self.cancelledFrame(item), .cancelled, nil)
        } catch let error as CollectiveError where error.kind == .cancelled {
            return (Self.cancelledFrame(item), .cancelled, nil)
        } catch let error as CollectiveError {
            var failure = Self.failure(error.description, retryable: true)
            if error.blamesPeer, let ring = item.ring, ring.peers.indices.contains(error.rank) {
                failure.suspectedWorkers = [ring.peers[error.rank].workerID]
            }
            result.failure = failure
        } catch let error as TaskError {
            result.failure = Self.failure(error.message, retryable: error.retryable)
        } catch let error as WireError {
            result.failure = Self.failure(error.description, retryable: false)
        } catch {
            result.failure = Self.failure("\(error)", retryable: true)
        }
        result.elapsedMs = Double(MonotonicClock.microseconds - started) / 1000
        let ending: WorkerMetrics.Ending = if case .success = result.outcome { .succeeded } else { .failed }
        return ([FrameTag.result.rawValue] + ((try? result.serializedBytes()) ?? []), ending, final)
    }

    /// Points one `record` call sends at most; an executor that reports more in one call
    /// is reporting per example, not per step.
    static let maximumScalarsPerReport = 256

    /// Builds the task's context and runs its workload's executor.
    private func execute(_ item: Item, socket: Socket) throws -> TaskOutput {
        guard let executor = executors[item.workload] else {
            throw TaskError("this worker cannot run workload '\(item.workload)'", retryable: false)
        }
        let (taskID, attempt) = (item.taskID, item.attempt)
        // The checkpoint goes out on this thread's own socket, ahead of the result.
        let outbox = SocketBox(socket: socket)
        let context = TaskContext(
            taskID: taskID, attempt: attempt, gang: try item.ring.map(gang), resume: resumption(item),
            outputDirectory: outputDirectory,
            isCancelled: { [self] in self.isCancelled(taskID, attempt: attempt) },
            reportProgress: { [self] fraction, message in
                var progress = Orrery_V1_Progress()
                progress.taskID = taskID
                progress.fraction = fraction
                progress.message = message
                self.shared.withLock { $0.progress.append(progress) }
            },
            recordScalars: { [self] scalars in
                var progress = Orrery_V1_Progress()
                progress.taskID = taskID
                progress.scalars = scalars.prefix(Self.maximumScalarsPerReport).map { scalar in
                    var point = Orrery_V1_Scalar()
                    point.tag = String(scalar.tag.prefix(200))
                    point.step = scalar.step
                    point.value = scalar.value
                    return point
                }
                self.shared.withLock { $0.progress.append(progress) }
            },
            commitCheckpoint: { [self] checkpoint in
                if let frame = self.checkpointFrame(checkpoint, taskID: taskID, attempt: attempt) { outbox.send(frame) }
            })
        let output = try executor.execute(item.payload, context: context)
        // A finished task resumes from nothing: its checkpoint files (if any) can go.
        if let outputDirectory { CheckpointFile.remove(taskID: taskID, directory: outputDirectory) }
        return output
    }

    /// A checkpoint as the frame that commits it; one too large for a frame is written to a
    /// file in the output directory and committed as a reference (nil when it cannot be).
    private func checkpointFrame(_ checkpoint: TaskCheckpoint, taskID: String, attempt: Int) -> Frame? {
        var committed = checkpoint
        if checkpoint.data.count > checkpointInlineLimit {
            guard let outputDirectory else {
                logger.warning("checkpoint not committed: larger than a frame carries, and this worker has no output directory to write it to",
                    metadata: ["task": "\(taskID)", "step": "\(checkpoint.step)", "bytes": "\(checkpoint.data.count)"])
                return nil
            }
            do {
                committed = try CheckpointFile.spill(checkpoint, taskID: taskID, directory: outputDirectory, limit: checkpointInlineLimit)
            } catch {
                logger.warning("checkpoint not committed", metadata: ["task": "\(taskID)", "step": "\(checkpoint.step)", "error": "\(error)"])
                return nil
            }
        }
        var message = Orrery_V1_Checkpoint()
        message.taskID = taskID
        message.attempt = UInt32(attempt)
        message.step = UInt64(committed.step)
        message.data = committed.data
        return [FrameTag.checkpoint.rawValue] + ((try? message.serializedBytes()) ?? [])
    }

    /// The checkpoint a task resumes from, read from its file when it was written to one. A
    /// file that is missing or not the one committed costs the progress it held, not the
    /// task: it starts from the beginning (training is seeded, so it ends the same).
    private func resumption(_ item: Item) -> TaskCheckpoint? {
        guard let resume = item.resume else { return nil }
        do {
            return try CheckpointFile.resolve(resume, directory: outputDirectory)
        } catch {
            logger.warning("starting from the beginning: the checkpoint to resume from cannot be read",
                metadata: ["task": "\(item.taskID)", "step": "\(resume.step)", "error": "\(error.message)"])
            return nil
        }
    }

    /// This worker's view of its gang, from the lease's ring assignment (which came from
    /// the network, so it is checked rather than trusted).
    func gang(_ ring: Orrery_V1_RingAssignment) throws(TaskError) -> Gang {
        guard let dataPlane, let context = sharedContext.withLock({ $0 }) else {
            throw TaskError("this worker has no data plane (started with --data-bind none) and cannot join a gang", retryable: true)
        }
        guard ring.worldSize > 0, ring.peers.count == Int(ring.worldSize), ring.rank < ring.worldSize,
            ring.peers.allSatisfy({ !$0.endpoint.isEmpty })
        else {
            throw TaskError(
                "malformed ring assignment: rank \(ring.rank) of world size \(ring.worldSize) with \(ring.peers.count) peer(s)"
                    + " (\(ring.peers.filter { $0.endpoint.isEmpty }.count) without an endpoint)", retryable: false)
        }
        var curveKeys: [CurvePublicKey] = []
        if dataPlane.curveKeyPair != nil {
            // An encrypted data plane talks only to members whose keys it knows.
            for peer in ring.peers {
                guard let key = try? CurvePublicKey(bytes: Array(peer.curvePublicKey)) else {
                    throw TaskError(
                        "ring member '\(PrintableText.escaped(peer.workerID, limit: 80))' has no valid CURVE key (\(peer.curvePublicKey.count) bytes): this worker's data plane is encrypted",
                        retryable: false)
                }
                curveKeys.append(key)
            }
        }
        let topology = RingTopology(
            rank: Int(ring.rank), endpoints: ring.peers.map(\.endpoint), collectiveID: ring.collectiveID,
            timeoutMilliseconds: Int(max(1, ring.collectiveTimeoutMs)), curveKeys: curveKeys)
        return Gang(topology: topology, workerIDs: ring.peers.map(\.workerID)) { isCancelled throws(CollectiveError) in
            try Communicator(topology: topology, dataPlane: dataPlane, context: context, isCancelled: isCancelled)
        }
    }

    private static func cancelledFrame(_ item: Item) -> Frame {
        var result = Orrery_V1_TaskResult()
        result.taskID = item.taskID
        result.attempt = UInt32(item.attempt)
        return [FrameTag.cancelled.rawValue] + ((try? result.serializedBytes()) ?? [])
    }

    private static func failure(_ message: String, retryable: Bool) -> Orrery_V1_TaskFailure {
        var failure = Orrery_V1_TaskFailure()
        failure.message = message
        failure.retryable = retryable
        return failure
    }
}

/// Lets a task's checkpoint closure use the socket of the pool thread that runs the task;
/// the closure is only ever called on that thread.
private final class SocketBox: @unchecked Sendable {
    let socket: Socket
    init(socket: Socket) { self.socket = socket }
    func send(_ frame: Frame) { try? socket.send([frame], wait: true) }
}
