import Foundation

/// Parses durations written for people: `250ms`, `30s`, `5m`, `1h`, or a bare number of
/// seconds. Job specs and command-line flags share it, so both accept the same forms.
public enum DurationText {
    public static func milliseconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value.isFinite {
                return Int((value * scale).rounded())
            }
        }
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return Int((seconds * 1000).rounded()) }
        return nil
    }
}
