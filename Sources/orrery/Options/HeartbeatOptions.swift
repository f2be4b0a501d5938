import ArgumentParser
import Wire

/// The liveness contract, shared by the coordinator (which hands it to workers) and the
/// worker (which uses it until the coordinator's arrives).
struct HeartbeatOptions: ParsableArguments {
    @Option(name: .long, help: "Time between heartbeats.")
    var heartbeatInterval = DurationArgument(milliseconds: 1000)

    @Option(name: .long, help: "Heartbeats missed before a peer counts as dead.")
    var heartbeatMisses = 3

    func validate() throws {
        // The wire's bounds (docs/wire.md): a worker refuses a contract outside them.
        guard WireLimits.heartbeatIntervalMilliseconds.contains(UInt32(clamping: heartbeatInterval.milliseconds)) else {
            throw ValidationError("--heartbeat-interval must be 10ms to 10m")
        }
        guard WireLimits.heartbeatMisses.contains(UInt32(clamping: max(0, heartbeatMisses))) else {
            throw ValidationError("--heartbeat-misses must be 1 to 1000")
        }
    }
}

/// Options a launcher passes to the daemons it starts; hidden from `--help`.
struct ChildOptions: ParsableArguments {
    @Option(name: .long, help: .hidden)
    var parentPid: Int32?
}
