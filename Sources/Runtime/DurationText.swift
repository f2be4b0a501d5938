import Foundation

/// Parses durations written for people: `250ms`, `30s`, `5m`, `1h`, or a bare number of
/// seconds. Job specs and command-line flags share it, so both accept the same forms.
public enum DurationText {
    /// The longest duration accepted: 30 days. Longer ones (and any that would not fit an
    /// integer number of milliseconds) are not durations a deadline or interval can mean.
    public static let maximumMilliseconds = 30 * 24 * 3_600_000

    /// The duration in milliseconds, or nil when the text is not a duration of 0 up to
    /// `maximumMilliseconds`.
    public static func milliseconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // Plain decimal numbers only: Double(_:) would also take "inf", "nan" and hex.
        guard trimmed.allSatisfy({ "0123456789.eE+-mshMSH".contains($0) }) else { return nil }
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)) { return bounded(value * scale) }
        }
        if let seconds = Double(trimmed) { return bounded(seconds * 1000) }
        return nil
    }

    /// Rounded milliseconds if they lie in 0...maximumMilliseconds. Checked in floating
    /// point before converting, since `Int(_:)` traps on values it cannot hold.
    private static func bounded(_ milliseconds: Double) -> Int? {
        guard milliseconds.isFinite, milliseconds >= 0 else { return nil }
        let rounded = milliseconds.rounded()
        guard rounded <= Double(maximumMilliseconds) else { return nil }
        return Int(rounded)
    }
}
