import Foundation
import Messaging
import Workloads

/// How a worker runs.
public struct WorkerConfig: Sendable {
    /// The coordinator's control endpoint, e.g. `tcp://head-node:7100`.
    public var coordinatorEndpoint: String
    /// Unique name in the cluster; also the ZeroMQ routing id.
    public var workerID: String
    /// Tasks run at once (threads in the task pool).
    public var slots: Int
    /// Where the data plane (gang peers' all-reduce traffic) listens: `tcp://0.0.0.0:*`
    /// takes any port on every interface; nil runs no data plane (no gang tasks).
    public var dataBind: String? = "tcp://0.0.0.0:*"
    /// The host name or address peers on other hosts use to reach the data plane (the
    /// bound address when it is not a wildcard; this host's name otherwise).
    public var dataHost: String?
    /// Also listen on an ipc:// socket for peers on this host, which is faster than TCP
    /// over loopback.
    public var dataLocalIPC = true
    /// Used until the coordinator's `Registered` sets the real contract.
    public var heartbeatIntervalMilliseconds: Int64 = 1000
    public var heartbeatMisses: Int64 = 3
    /// Reconnect backoff.
    public var backoffInitialMilliseconds: Int64 = 100
    public var backoffMaximumMilliseconds: Int64 = 5000
    /// After SIGTERM, how long running tasks may take to finish and report.
    public var gracePeriodMilliseconds: Int64 = 10_000
    /// The only directory tasks write files into (a `train` task's saved weights); paths
    /// in leases that leave it are refused. The working directory by default.
    public var outputDirectory = FileManager.default.currentDirectoryPath
    /// Checkpoints larger than this many bytes are written to files under the output
    /// directory and committed by reference (`CheckpointFile`); the directory must then be
    /// one every worker sees.
    public var checkpointInlineLimit = CheckpointFile.inlineLimit
    /// The most leases held at once, running and queued (0: the coordinator decides; at
    /// least `slots`). Caps how much work one worker takes out of the queue ahead.
    public var maxPrefetch = 0
    /// CURVE on both planes: the worker's key pair, the coordinator's public key, and the
    /// allow-list of gang peers its data plane admits; nil talks plaintext.
    public var curve: CurveSecurity?

    public init(coordinatorEndpoint: String, workerID: String, slots: Int) {
        self.coordinatorEndpoint = coordinatorEndpoint
        self.workerID = workerID
        self.slots = slots
    }

    /// A name unique enough for a cluster: host name and process id.
    public static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())"
    }
}
