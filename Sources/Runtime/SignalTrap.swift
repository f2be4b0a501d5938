import CRuntimeShims
import Glibc

/// Turns SIGINT/SIGTERM into a flag that event loops read, instead of killing the process.
///
/// The handler only records the signal number; the daemon's loop notices it after its next
/// poll (a signal interrupts `zmq_poll` at once) and shuts down in order. SIGPIPE is
/// ignored, since a peer closing a socket is an error value, not a reason to die.
public enum SignalTrap {
    /// Traps `signals` (by default SIGINT and SIGTERM) and ignores SIGPIPE.
    public static func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        signal(SIGPIPE, SIG_IGN)
        for number in signals { _ = orrery_trap_signal(number) }
    }

    /// The signal received since the last call, if any; the flag is cleared.
    public static func take() -> Int32? {
        let number = orrery_take_trapped_signal()
        return number == 0 ? nil : number
    }

    /// The pending signal, if any, left in place for others to see.
    public static var pending: Int32? {
        let number = orrery_peek_trapped_signal()
        return number == 0 ? nil : number
    }

    /// A readable name, e.g. "SIGTERM".
    public static func name(of number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGKILL: "SIGKILL"
        default: "signal \(number)"
        }
    }
}
