import Messaging
import Ledger

/// How a coordinator runs. Every field has the default an operator would expect.
public struct CoordinatorConfig: Sendable {
    /// ZeroMQ endpoints to bind, e.g. `tcp://0.0.0.0:7100`; `tcp://127.0.0.1:*` picks a port.
    public var endpoints: [String] = ["tcp://127.0.0.1:7100"]
    /// CURVE on the control socket: the coordinator's key pair and the allow-list of worker
    /// and client keys it admits; nil serves plaintext.
    public var curve: CurveSecurity?
    /// Heartbeat interval and misses: the same contract is handed to every worker.
    public var liveness = LivenessPolicy()
    /// After SIGTERM, how long running leases may take to finish before the process exits.
    public var drainTimeoutMilliseconds = 30_000
    /// Where to write the bound endpoints once the socket is up (for launchers and tests).
    public var readyFile: String?
    /// Further addresses written to the ready file after the bound endpoints (the HTTP
    /// server's `http://HOST:PORT`), for launchers and tests to find.
    public var advertisedURLs: [String] = []
    /// Milliseconds of queued work to keep ahead of each worker slot (see `WorkerRegistry`).
    public var targetQueueMilliseconds = 5.0
    /// Most leases sent ahead per slot, however short the tasks.
    public var maxPrefetchPerSlot = 512
    /// Finished jobs kept for `status` and late watchers.
    public var finishedJobsKept = 100
    /// How often watchers get progress updates.
    public var updateIntervalMilliseconds = 250

    /// How long a gang task with fewer free workers than its maximum waits for more before
    /// starting with its minimum.
    public var gangGatherMilliseconds: Int64 = 2_000
    /// How long one collective call of a gang may wait on a member (handed to every member).
    public var collectiveTimeoutMilliseconds = 30_000
    /// Where committed checkpoints are also written (one file per task); nil keeps them in
    /// memory only.
    public var checkpointDirectory: String?
    /// Where the ledger lives (`ledger.sqlite`): with one, a restarted coordinator resumes
    /// every unfinished job; nil keeps everything in memory (lost with the process).
    public var stateDirectory: String?
    /// When a ledger commit reaches the disk (see `LedgerDurability`).
    public var ledgerDurability = LedgerDurability.normal
    /// Ended jobs the ledger keeps for `status JOB` and `jobs` (the newest); older ones leave.
    public var ledgerKeepJobs = 10_000

    /// Jobs running at once; more submissions get `REJECT_TOO_MANY_JOBS`.
    public var maxRunningJobs = 256
    /// Tasks the lease table may hold (queued and leased; finished ones leave it at once)
    /// before a new job is refused (`REJECT_TOO_MANY_JOBS`): a job is admitted only if its
    /// first planned batch fits. Each task costs a few hundred bytes, so this bounds what
    /// submissions can make the coordinator hold.
    public var maxHeldTasks = 2_000_000
    /// Workers admitted at once; more registrations get `REJECT_CLUSTER_FULL`.
    public var maxWorkers = 4096
    /// Client requests (submit, status, watch, cancel) answered per peer: a burst, then a
    /// steady rate per second. Past it, requests get `REJECT_RATE_LIMITED`, so a peer that
    /// asks without reading cannot make the coordinator queue replies without end.
    public var clientRequestBurst = 10
    public var clientRequestsPerSecond = 20.0

    public init() {}
}
