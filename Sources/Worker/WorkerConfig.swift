import Foundation

/// How a worker runs.
public struct WorkerConfig: Sendable {
    /// The coordinator's control endpoint, e.g. `tcp://head-node:7100`.
    public var coordinatorEndpoint: String
    /// Unique name in the cluster; also the ZeroMQ routing id.
    public var workerID: String
    /// Tasks run at once (threads in the task pool).
    public var slots: Int
    /// Where peers reach this worker's data plane; empty until collectives exist.
    public var dataEndpoint = ""
    /// Used until the coordinator's `Registered` sets the real contract.
    public var heartbeatIntervalMilliseconds: Int64 = 1000
    public var heartbeatMisses: Int64 = 3
    /// Reconnect backoff.
    public var backoffInitialMilliseconds: Int64 = 100
    public var backoffMaximumMilliseconds: Int64 = 5000
    /// After SIGTERM, how long running tasks may take to finish and report.
    public var gracePeriodMilliseconds: Int64 = 10_000

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
