import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of Orrery's own machinery; peers are measured by scripts/bench/peers/.",
        subcommands: [DispatchBenchCommand.self, EngineBenchCommand.self, AllReduceBenchCommand.self, LanguageModelBenchCommand.self, MetaLearnBenchCommand.self, PromptTuneBenchCommand.self])
}
