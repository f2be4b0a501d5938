import UnixSignals

/// SIGHUP as "read your configuration again", the convention daemons follow.
public enum HangupSignal {
    /// Calls `action` on every SIGHUP from now on, until the returned task is cancelled.
    /// The signal is trapped before this returns, so a SIGHUP never takes its default
    /// action (ending the process) once a daemon has said it reloads on it.
    public static func onEach(_ action: @escaping @Sendable () -> Void) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        return Task {
            for await _ in signals { action() }
        }
    }
}
