import Logging

/// One logging set-up for every Orrery process: levelled lines on standard error, so that
/// standard output stays free for results and JSON.
public enum LoggingSetup {
    /// Installs the process-wide log handler. Call once, before any logger is made.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
