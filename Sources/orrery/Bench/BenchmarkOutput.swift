import Foundation

/// What every `orrery bench` command shares: medians and stable JSON on standard output.
enum BenchmarkOutput {
    /// One measured quantity: the median of timed runs, and the runs.
    struct Row: Encodable {
        let name: String
        let unit: String
        let median: Double
        let runs: [Double]
    }

    /// Runs `body` once to warm up, then `repeats` times; each run returns its own rate.
    static func measure(repeats: Int, _ name: String, unit: String, _ body: () throws -> Double) throws -> Row {
        _ = try body()
        let runs = try (0..<repeats).map { _ in try body() }
        return Row(name: name, unit: unit, median: median(runs), runs: runs)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// Rows as JSON (what scripts/bench/versus-torch reads) or as an aligned table.
    static func print(_ rows: [Row], json: Bool) throws {
        guard !json else { return try printJSON(rows) }
        for row in rows { Swift.print(row.name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %10.1f ", row.median) + row.unit) }
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
