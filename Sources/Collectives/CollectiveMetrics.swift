import Metrics

/// What a communicator exports through swift-metrics (to whatever backend the process
/// bootstraps): all-reduce time and bytes by data path, and failures by kind, so that a
/// slow or failing data plane shows up on a dashboard before it shows up in a job.
struct CollectiveMetrics {
    private let ringTime = Timer(label: "orrery_allreduce_duration_seconds", dimensions: [("path", "ring")])
    private let sharedTime = Timer(label: "orrery_allreduce_duration_seconds", dimensions: [("path", "shared_memory")])
    private let ringBytes = Counter(label: "orrery_allreduce_bytes_total", dimensions: [("path", "ring")])
    private let sharedBytes = Counter(label: "orrery_allreduce_bytes_total", dimensions: [("path", "shared_memory")])

    func recordAllReduce(floats: Int, nanoseconds: Int64, sharedMemory: Bool) {
        (sharedMemory ? sharedTime : ringTime).recordNanoseconds(nanoseconds)
        (sharedMemory ? sharedBytes : ringBytes).increment(by: 4 * floats)
    }

    func recordFailure(_ error: CollectiveError) {
        Counter(label: "orrery_collective_failures_total", dimensions: [("kind", error.kind.metricName)]).increment()
    }
}

extension CollectiveError.Kind {
    /// A short, fixed name for metrics dimensions.
    var metricName: String {
        switch self {
        case .peerDisconnected: "peer_disconnected"
        case .timedOut: "timed_out"
        case .aborted: "aborted"
        case .protocolViolation: "protocol_violation"
        case .cancelled: "cancelled"
        case .transport: "transport"
        }
    }
}
