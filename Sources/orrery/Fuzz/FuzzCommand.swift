import ArgumentParser

/// `orrery fuzz …`: hostile peers for real daemons (see scripts/fuzz and docs/robustness.md).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Send hostile frames to a running daemon (only to daemons you run yourself, on loopback or your own test hosts).",
        subcommands: [CoordinatorFuzzCommand.self, WorkerFuzzCommand.self, DataPlaneFuzzCommand.self])
}

/// What every fuzzing subcommand takes.
struct FuzzOptions: ParsableArguments {
    @Option(name: .long, help: "Messages to send.")
    var frames = 100_000

    @Option(name: .long, help: "Seed of the hostile messages (the same seed sends the same messages).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Stop after this long even if not all messages went out.")
    var timeLimit = DurationArgument(milliseconds: 600_000)

    @Option(name: .long, help: "The target daemon's pid: its memory is reported, and the run fails if it dies.")
    var pid: Int32?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if frames < 0 { throw ValidationError("--frames must be 0 or more") }
    }
}
