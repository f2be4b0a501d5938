import Foundation
import Wire

/// Well-formed envelopes with values nobody expected, for each direction of the control
/// plane: the structured half of the fuzzer (the other half damages bytes). Every numeric
/// field is drawn from the extremes (0, 1, powers of two, maxima, NaN, infinities), every
/// text from control characters, path tricks and long runs.
public struct HostileMessages {
    public var mutator: FrameMutator
    /// Real job specs to mutate (the repository's jobs/*.yaml), so that mutations reach
    /// deep into the spec parser instead of failing at the first line.
    public var specCorpus: [String]

    public init(seed: UInt64, specCorpus: [String] = []) {
        mutator = FrameMutator(seed: seed)
        self.specCorpus = specCorpus.isEmpty ? Self.builtInSpecs : specCorpus
    }

    // MARK: A worker, as the coordinator sees it

    /// `Register`, `Heartbeat`, results, progress and checkpoints, from `workerID`.
    public mutating func fromWorker(workerID: String) -> EnvelopeBody {
        switch mutator.integer(below: 6) {
        case 0: return .register(register(workerID: workerID))
        case 1:
            var heartbeat = Orrery_V1_Heartbeat()
            heartbeat.sequence = mutator.extremeUInt64()
            heartbeat.runningTasks = mutator.extremeUInt32()
            return .heartbeat(heartbeat)
        case 2: return .results(results())
        case 3:
            var batch = Orrery_V1_ProgressBatch()
            batch.items = (0..<(1 + mutator.integer(below: 8))).map { _ in
                var item = Orrery_V1_Progress()
                item.taskID = taskID()
                item.fraction = Float(mutator.extremeDouble())
                item.message = mutator.hostileText(maximumBytes: 8192)
                return item
            }
            return .progress(batch)
        case 4:
            var checkpoint = Orrery_V1_Checkpoint()
            checkpoint.taskID = taskID()
            checkpoint.attempt = mutator.extremeUInt32()
            checkpoint.step = mutator.extremeUInt64()
            checkpoint.data = Data(mutator.randomBytes(mutator.integer(below: 4096)))
            return .checkpoint(checkpoint)
        default:
            // The wrong direction: messages only a coordinator sends.
            return fromCoordinator(workerID: workerID)
        }
    }

    public mutating func register(workerID: String) -> Orrery_V1_Register {
        var message = Orrery_V1_Register()
        message.workerID = mutator.chance(80) ? workerID : mutator.hostileText(maximumBytes: 400)
        message.slots = mutator.extremeUInt32()
        message.maxPrefetch = mutator.chance(50) ? 0 : mutator.extremeUInt32()
        message.cores = mutator.extremeUInt32()
        message.memoryBytes = mutator.extremeUInt64()
        message.capabilities = mutator.chance(80)
            ? ["noop", "sweep", "train", "prompt-search"].filter { _ in mutator.chance(60) }
            : (0..<mutator.integer(below: 200)).map { _ in mutator.hostileText(maximumBytes: 64) }
        message.hostname = mutator.hostileText(maximumBytes: 700)
        message.pid = mutator.extremeUInt32()
        message.agent = mutator.hostileText()
        message.dataEndpoint = mutator.chance(50) ? "" : mutator.hostileText(maximumBytes: 100)
        message.runningTaskIds = (0..<mutator.integer(below: 16)).map { _ in taskID() }
        return message
    }

    mutating func results() -> Orrery_V1_ResultBatch {
        var batch = Orrery_V1_ResultBatch()
        batch.results = (0..<(1 + mutator.integer(below: 16))).map { _ in
            var result = Orrery_V1_TaskResult()
            result.taskID = taskID()
            result.attempt = mutator.extremeUInt32()
            result.elapsedMs = mutator.extremeDouble()
            switch mutator.integer(below: 3) {
            case 0:
                var success = Orrery_V1_TaskSuccess()
                for _ in 0..<mutator.integer(below: 8) { success.metrics[mutator.hostileText(maximumBytes: 32)] = mutator.extremeDouble() }
                success.payload = Data(mutator.randomBytes(mutator.integer(below: 512)))
                result.success = success
            case 1:
                var failure = Orrery_V1_TaskFailure()
                failure.message = mutator.hostileText(maximumBytes: 16_384)
                failure.retryable = mutator.chance(50)
                failure.suspectedWorkers = (0..<mutator.integer(below: 100)).map { _ in mutator.hostileText(maximumBytes: 40) }
                result.failure = failure
            default:
                break  // no outcome at all
            }
            return result
        }
        return batch
    }

    /// Task ids that may or may not exist: real-looking ones of the first jobs, and junk.
    mutating func taskID() -> String {
        mutator.chance(60) ? "\(String(mutator.integer(below: 4), radix: 16))-\(1 + mutator.integer(below: 3))/\(mutator.integer(below: 50))"
            : mutator.hostileText(maximumBytes: 300)
    }

    // MARK: A client

    /// Submissions (mutated real specs, hostile values), status, watch and cancel requests.
    public mutating func fromClient() -> EnvelopeBody {
        switch mutator.integer(below: 9) {
        case 0, 1, 2:
            var submit = Orrery_V1_SubmitJob()
            submit.specYaml = spec()
            submit.sourceName = mutator.hostileText(maximumBytes: 300)
            submit.watch = mutator.chance(20)
            return .submitJob(submit)
        case 3, 4:
            return .statusRequest(Orrery_V1_StatusRequest())
        case 5:
            var watch = Orrery_V1_WatchJob()
            watch.jobID = taskID()
            watch.once = mutator.chance(50)
            return .watchJob(watch)
        case 8:
            var list = Orrery_V1_ListJobs()
            list.limit = mutator.chance(50) ? UInt32(mutator.integer(below: 200)) : UInt32.max
            return .listJobs(list)
        case 6:
            var cancel = Orrery_V1_CancelJob()
            cancel.jobID = mutator.hostileText(maximumBytes: 100)
            return .cancelJob(cancel)
        default:
            return fromWorker(workerID: "client-\(mutator.integer(below: 1000))")
        }
    }

    /// A job spec: a real one damaged line by line, or one with values at the edges.
    mutating func spec() -> String {
        let base = specCorpus[mutator.integer(below: specCorpus.count)]
        switch mutator.integer(below: 4) {
        case 0:
            return String(decoding: mutator.mutate(Array(base.utf8), maximumBytes: 8192), as: UTF8.self)
        case 1:
            var lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let edges = [
                "task_timeout: 99999999999999999h", "task_timeout: 2562047788016h", "task_timeout: -1s", "task_timeout: nan",
                "max_attempts: 4000000000", "max_in_flight: -5", "name: ~", "name: \"\\0\\n\"",
                "  batch_size: 0", "  hidden: [0]", "  channels: [0]", "  channels: [16, 16, 16, 16, 16, 16, 16]",
                "  hidden: [65536, 65536, 65536]", "  epochs: 0", "  learning_rate: .nan", "  points: 10000000",
                "  dimensions: 64", "  batch: 100000", "  save: /etc/orrery-owned", "  save: ../../outside",
                "  optimizer: lion", "  workers: {min: 5, max: 2}", "  temperature: -1", "  rounds: 0",
            ]
            for _ in 0..<(1 + mutator.integer(below: 3)) {
                lines.insert(edges[mutator.integer(below: edges.count)], at: mutator.integer(below: lines.count + 1))
            }
            return lines.joined(separator: "\n")
        case 2 where mutator.chance(10):
            // Over the name limit, now and then over the whole spec's limit.
            let length = mutator.chance(5) ? 200_000 + mutator.integer(below: 100_000) : 200 + mutator.integer(below: 8_000)
            return "name: " + String(repeating: "n", count: length) + "\nworkload: noop\n"
        default:
            return base
        }
    }

    // MARK: A coordinator, as a worker sees it

    /// Everything a coordinator may send a worker except the two messages that stop a worker
    /// by design (`Shutdown`, and a final `Reject` of its version or registration).
    public mutating func fromCoordinator(workerID: String) -> EnvelopeBody {
        switch mutator.integer(below: 7) {
        case 0:
            var registered = Orrery_V1_Registered()
            registered.coordinatorID = mutator.hostileText()
            registered.heartbeatIntervalMs = mutator.extremeUInt32()
            registered.heartbeatMisses = mutator.extremeUInt32()
            return .registered(registered)
        case 1, 2, 3:
            var batch = Orrery_V1_LeaseBatch()
            batch.leases = (0..<(1 + mutator.integer(below: 8))).map { _ in lease() }
            return .leases(batch)
        case 4:
            var cancel = Orrery_V1_Cancel()
            cancel.taskIds = (0..<mutator.integer(below: 64)).map { _ in taskID() }
            cancel.reason = mutator.hostileText()
            return .cancel(cancel)
        case 5:
            var reject = Orrery_V1_Reject()
            let codes: [Orrery_V1_RejectCode] = [
                .rejectUnspecified, .rejectUnknownWorker, .rejectInvalidSpec, .rejectDraining, .rejectUnknownJob, .rejectRateLimited,
            ]
            reject.code = codes[mutator.integer(below: codes.count)]
            reject.reason = mutator.hostileText()
            return .reject(reject)
        default:
            var heartbeat = Orrery_V1_Heartbeat()
            heartbeat.sequence = mutator.extremeUInt64()
            return .heartbeat(heartbeat)
        }
    }

    /// A lease of a real workload with a payload at the edges (or of no workload at all).
    mutating func lease() -> Orrery_V1_TaskLease {
        var lease = Orrery_V1_TaskLease()
        lease.taskID = mutator.chance(90) ? "fuzz-\(mutator.integer(below: 4))/\(mutator.integer(below: 100_000))" : mutator.hostileText(maximumBytes: 400)
        lease.jobID = "fuzz-1"
        lease.attempt = mutator.extremeUInt32()
        lease.deadlineMs = mutator.extremeUInt32()
        lease.resumeStep = mutator.chance(80) ? 0 : mutator.extremeUInt64()
        if mutator.chance(10) { lease.resumeCheckpoint = Data(mutator.randomBytes(mutator.integer(below: 2048))) }
        switch mutator.integer(below: 6) {
        case 0:
            lease.workload = "train"
            lease.payload = EnvelopeCodec.encodePayload(trainTask())
        case 1:
            lease.workload = "sweep"
            var task = Orrery_V1_Workloads_SweepTask()
            task.function = ["branin", "rosenbrock", "ackley", "sphere", "nope", ""][mutator.integer(below: 6)]
            task.points = (0..<mutator.integer(below: 64)).map { _ in
                var point = Orrery_V1_Workloads_SweepPoint()
                point.x = (0..<mutator.integer(below: 5)).map { _ in mutator.extremeDouble() }
                return point
            }
            lease.payload = EnvelopeCodec.encodePayload(task)
        case 2:
            lease.workload = "noop"
            var task = Orrery_V1_Workloads_NoopTask()
            task.sleepMs = mutator.chance(95) ? 0 : UInt32(mutator.integer(below: 50))
            lease.payload = EnvelopeCodec.encodePayload(task)
        case 3:
            lease.workload = "prompt-search"
            lease.payload = EnvelopeCodec.encodePayload(promptTask())
        case 4:
            lease.workload = ["teleport", "", "train "][mutator.integer(below: 3)]
            lease.payload = Data(mutator.randomBytes(mutator.integer(below: 64)))
        default:
            lease.workload = ["train", "sweep", "noop", "prompt-search"][mutator.integer(below: 4)]
            lease.payload = Data(mutator.randomBytes(mutator.integer(below: 256)))
        }
        if mutator.chance(10) {
            var ring = Orrery_V1_RingAssignment()
            ring.rank = mutator.extremeUInt32()
            ring.worldSize = mutator.extremeUInt32() % 8
            ring.peers = (0..<mutator.integer(below: 4)).map { _ in
                var peer = Orrery_V1_RingPeer()
                peer.workerID = mutator.hostileText(maximumBytes: 32)
                peer.endpoint = mutator.chance(50) ? "tcp://127.0.0.1:1" : mutator.hostileText(maximumBytes: 64)
                return peer
            }
            ring.collectiveID = mutator.hostileText(maximumBytes: 64)
            ring.collectiveTimeoutMs = UInt32(mutator.integer(below: 200))
            lease.ring = ring
        }
        return lease
    }

    /// A training task that must be refused before it trains: every one breaks a rule
    /// (a real, valid one would only make the worker train, which is not what fuzzing is for).
    mutating func trainTask() -> Orrery_V1_Workloads_TrainTask {
        var task = Orrery_V1_Workloads_TrainTask()
        task.dataset = ["digits", "fashion-mnist", "imagenet", ""][mutator.integer(below: 4)]
        task.model = ["mlp", "cnn", "transformer"][mutator.integer(below: 3)]
        task.hidden = (0..<mutator.integer(below: 4)).map { _ in mutator.extremeUInt32() }
        task.channels = (0..<mutator.integer(below: 8)).map { _ in mutator.extremeUInt32() }
        task.activation = ["relu", "swish", ""][mutator.integer(below: 3)]
        task.optimizer = ["adam", "sgd", "lion", ""][mutator.integer(below: 4)]
        task.schedule = ["constant", "cosine", "exponential"][mutator.integer(below: 3)]
        task.learningRate = Float(mutator.extremeDouble())
        task.batchSize = mutator.extremeUInt32()
        task.epochs = mutator.extremeUInt32()
        task.warmupSteps = mutator.extremeUInt32()
        task.bucketElements = mutator.extremeUInt32()
        task.checkpointEvery = mutator.extremeUInt32()
        task.savePath = ["", "/etc/orrery-fuzz", "../../escape", "ok.safetensors", "/tmp/../etc/x"][mutator.integer(below: 5)]
        // Break at least one rule for certain, so no fuzzed lease starts real training.
        switch mutator.integer(below: 4) {
        case 0: task.batchSize = 0
        case 1: task.hidden = [0]
        case 2: task.optimizer = "lion"
        default: task.epochs = 0
        }
        return task
    }

    mutating func promptTask() -> Orrery_V1_Workloads_PromptSearchTask {
        var task = Orrery_V1_Workloads_PromptSearchTask()
        if mutator.chance(50) {
            var score = Orrery_V1_Workloads_PromptScoreTask()
            score.scorer = ["smollm2", "minilm", "gpt"][mutator.integer(below: 3)]
            score.modelSha256 = mutator.hostileText(maximumBytes: 64)
            score.maxTextTokens = mutator.extremeUInt32()
            score.texts = (0..<mutator.integer(below: 4)).map { _ in mutator.hostileText() }
            var prompt = Orrery_V1_Workloads_Prompt()
            prompt.template = mutator.chance(50) ? "{text}" : mutator.hostileText()
            prompt.verbalizers = (0..<mutator.integer(below: 4)).map { _ in mutator.hostileText(maximumBytes: 16) }
            prompt.demonstrations = (0..<mutator.integer(below: 3)).map { _ in
                var demonstration = Orrery_V1_Workloads_Demonstration()
                demonstration.label = mutator.extremeUInt32()
                demonstration.text = mutator.hostileText()
                return demonstration
            }
            score.prompt = prompt
            task.score = score
        } else {
            var paraphrase = Orrery_V1_Workloads_ParaphraseTask()
            paraphrase.count = mutator.extremeUInt32()
            paraphrase.maxTokens = mutator.extremeUInt32()
            paraphrase.temperature = mutator.extremeDouble()
            paraphrase.instruction = mutator.hostileText()
            paraphrase.modelSha256 = mutator.hostileText(maximumBytes: 64)
            task.paraphrase = paraphrase
        }
        return task
    }

    static let builtInSpecs = [
        "name: fuzz-sweep\nworkload: sweep\nsweep:\n  function: branin\n  points: 16\n  batch: 4\n",
        "name: fuzz-noop\nworkload: noop\nnoop:\n  tasks: 10\n",
        "name: fuzz-train\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [8]\n  epochs: 1\n",
    ]
}
