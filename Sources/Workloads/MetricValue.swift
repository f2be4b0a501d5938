/// Metrics arrive from workers over the network as doubles, any of which may be NaN,
/// infinite or 1e300: a planner that turns one into a count goes through here instead of
/// `Int(_:)`, which traps on such values.
enum MetricValue {
    /// `value` as a whole number when it is finite and in 0..<10¹⁵, else 0.
    static func count(_ value: Double?) -> Int {
        guard let value, value.isFinite, value >= 0, value < 1e15 else { return 0 }
        return Int(value)
    }

    /// `value` when it is finite and not negative (a duration, a rate), else 0.
    static func amount(_ value: Double) -> Double { value.isFinite && value >= 0 ? value : 0 }
}
