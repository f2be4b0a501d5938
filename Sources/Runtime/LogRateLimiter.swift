/// Decides which of many similar log lines to write: the first `burst` of each key (a
/// sender and a reason, say) in every window, then one line per window that says how many
/// were left out. A peer that sends a million bad frames costs the log a few lines a
/// second instead of a million.
///
/// Keys are forgotten with their window, and at most `maximumKeys` are tracked at once (a
/// flood of new senders shares one overflow key), so the limiter's own memory is bounded.
public struct LogRateLimiter {
    public enum Decision: Equatable {
        /// Write the line.
        case log
        /// Write the line, and say that `suppressed` like it were left out since the last one.
        case logWithSuppressed(Int)
        /// Leave it out.
        case suppress
    }

    private struct Window {
        var start: Int64
        var logged: Int
        var suppressed: Int
    }

    public let burst: Int
    public let windowMilliseconds: Int64
    public let maximumKeys: Int
    private var windows: [String: Window] = [:]
    private var lastSweep = Int64.min / 2
    /// Lines left out in all, for counters.
    public private(set) var totalSuppressed: UInt64 = 0

    public init(burst: Int = 5, windowMilliseconds: Int64 = 10_000, maximumKeys: Int = 1024) {
        self.burst = burst
        self.windowMilliseconds = windowMilliseconds
        self.maximumKeys = maximumKeys
    }

    public mutating func decide(_ key: String, now: Int64) -> Decision {
        var key = key
        if windows[key] == nil && windows.count >= maximumKeys {
            // Forget ended windows, at most once per window: a flood of new keys must not
            // make every call walk the table.
            if now - lastSweep >= windowMilliseconds {
                lastSweep = now
                windows = windows.filter { now - $0.value.start < windowMilliseconds }
            }
            if windows.count >= maximumKeys { key = "(other senders)" }
        }
        var window = windows[key] ?? Window(start: now, logged: 0, suppressed: 0)
        if now - window.start >= windowMilliseconds {
            let left = window.suppressed
            window = Window(start: now, logged: 1, suppressed: 0)
            windows[key] = window
            return left > 0 ? .logWithSuppressed(left) : .log
        }
        if window.logged < burst {
            window.logged += 1
            windows[key] = window
            return .log
        }
        window.suppressed += 1
        totalSuppressed += 1
        windows[key] = window
        return .suppress
    }
}
