import ArgumentParser

/// The liveness contract, shared by the coordinator (which hands it to workers) and the
/// worker (which uses it until the coordinator's arrives).
struct HeartbeatOptions: ParsableArguments {
    @Option(name: .long, help: "Time between heartbeats.")
    var heartbeatInterval = DurationArgument(milliseconds: 1000)

    @Option(name: .long, help: "Heartbeats missed before a peer counts as dead.")
    var heartbeatMisses = 3

    func validate() throws {
        guard heartbeatInterval.milliseconds >= 10 else { throw ValidationError("--heartbeat-interval must be at least 10ms") }
        guard heartbeatMisses >= 1 else { throw ValidationError("--heartbeat-misses must be at least 1") }
    }
}

/// Options a launcher passes to the daemons it starts; hidden from `--help`.
struct ChildOptions: ParsableArguments {
    @Option(name: .long, help: .hidden)
    var parentPid: Int32?
}
