import ArgumentParser
import Logging
import Runtime

/// `--log-level`, shared by every command.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Least severe log level shown on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrap() { LoggingSetup.bootstrap(level: logLevel) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
