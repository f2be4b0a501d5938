import Foundation

/// An SVG of a search's trials: dev accuracy against batch-1 latency and against the
/// parameter count (both on log axes), every trial a grey dot, the members of the
/// three-objective Pareto front red, and each panel's own two-objective front as a dashed
/// staircase (a 3-D front member may sit below it: it wins on the other panel's axis).
/// Plain SVG 1.1, no scripts, so any browser or image viewer shows it.
enum ParetoPlot {
    static func svg(_ front: NASFront, title: String) -> String {
        let panels = [
            panel(front, x: { $0.record.latencyMs }, label: "batch-1 latency (ms, log)", left: 60),
            panel(front, x: { Double($0.record.parameters) }, label: "parameters (log)", left: 520),
        ]
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="960" height="400" font-family="sans-serif" font-size="12">
            <rect width="960" height="400" fill="white"/>
            <text x="480" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>
            <text x="480" y="392" text-anchor="middle" fill="#555">red: Pareto front over (dev accuracy, parameters, latency); dashed: each panel's two-objective front; hover a dot for its configuration</text>
            \(panels.joined(separator: "\n"))
            </svg>

            """
    }

    private static let (top, height, width) = (40.0, 300.0, 380.0)

    private static func panel(_ front: NASFront, x value: (NASFront.Point) -> Double, label: String, left: Double) -> String {
        let points = front.points.filter { value($0) > 0 }
        guard !points.isEmpty else { return "" }
        let xs = points.map { log10(value($0)) }, ys = points.map(\.accuracy)
        let (xLow, xHigh) = padded(xs.min()!, xs.max()!), (yLow, yHigh) = padded(ys.min()!, ys.max()!)
        func px(_ p: NASFront.Point) -> Double { left + (log10(value(p)) - xLow) / (xHigh - xLow) * width }
        func py(_ p: NASFront.Point) -> Double { top + height - (p.accuracy - yLow) / (yHigh - yLow) * height }
        var parts = [
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#888\"/>",
            "<text x=\"\(left + width / 2)\" y=\"\(top + height + 34)\" text-anchor=\"middle\">\(label)</text>",
            "<text x=\"\(left - 44)\" y=\"\(top + height / 2)\" transform=\"rotate(-90 \(left - 44) \(top + height / 2))\" text-anchor=\"middle\">dev accuracy</text>",
        ]
        for (fraction, text) in [(0.0, xLow), (1.0, xHigh)] {
            parts.append("<text x=\"\(left + fraction * width)\" y=\"\(top + height + 16)\" text-anchor=\"middle\">\(format(pow(10, text)))</text>")
        }
        for (fraction, accuracy) in [(0.0, yLow), (1.0, yHigh)] {
            parts.append("<text x=\"\(left - 4)\" y=\"\(top + height - fraction * height + 4)\" text-anchor=\"end\">\(String(format: "%.1f%%", 100 * accuracy))</text>")
        }
        let onFront = Set(front.front.map { front.points[$0].record.id })
        for point in points where !onFront.contains(point.record.id) {
            parts.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#aaa\"><title>%@</title></circle>", px(point), py(point), escape(point.record.configuration.description)))
        }
        // The panel's own two-objective front as a staircase: each point more accurate than
        // every point to its left.
        var staircase: [NASFront.Point] = []
        for point in points.sorted(by: { value($0) != value($1) ? value($0) < value($1) : $0.accuracy > $1.accuracy })
        where staircase.last.map({ point.accuracy > $0.accuracy }) ?? true {
            staircase.append(point)
        }
        var corners: [String] = []
        for (index, point) in staircase.enumerated() {
            if index > 0 { corners.append(String(format: "%.1f,%.1f", px(point), py(staircase[index - 1]))) }
            corners.append(String(format: "%.1f,%.1f", px(point), py(point)))
        }
        parts.append("<polyline fill=\"none\" stroke=\"#d33\" stroke-dasharray=\"4 3\" points=\"\(corners.joined(separator: " "))\"/>")
        let frontPoints = front.front.map { front.points[$0] }.filter { value($0) > 0 }
        for point in frontPoints {
            parts.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d33\"><title>%@</title></circle>", px(point), py(point), escape(point.record.configuration.description)))
        }
        return parts.joined(separator: "\n")
    }

    private static func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let span = max(high - low, 1e-6)
        return (low - 0.05 * span, high + 0.05 * span)
    }

    private static func format(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.0fk", value / 1000) : String(format: "%.3g", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
