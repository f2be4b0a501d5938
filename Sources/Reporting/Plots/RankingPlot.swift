/// A leaderboard as SVG: one row per entry, best at the top, a dot at its value and a bar
/// across its 95% interval when it has one, on one shared axis, so overlapping intervals
/// (entries the data cannot yet tell apart) show at a glance.
public enum RankingPlot {
    public static let maximumRows = 30

    public static func svg(_ board: Ranking, title: String) -> String {
        let rows = Array(board.rows.prefix(maximumRows))
        let rowHeight = 20.0, labelWidth = 320.0, plotWidth = 420.0
        var document = SVGDocument(width: labelWidth + plotWidth + 120, height: 80 + rowHeight * Double(max(1, rows.count)), title: title)
        guard !rows.isEmpty else {
            document.text("no entries yet", x: document.width / 2, y: 60, anchor: "middle", color: "#777")
            return document.rendered
        }
        let values = rows.flatMap { [$0.value, $0.lower ?? $0.value, $0.upper ?? $0.value] }
        let panel = PlotPanel(left: labelWidth, top: 40, width: plotWidth, height: rowHeight * Double(rows.count), xs: values, ys: [0, 1])
        panel.frame(into: &document, xTitle: board.metric + (board.higherIsBetter ? " (higher is better)" : " (lower is better)"), yTitle: "")
        for (index, row) in rows.enumerated() {
            let y = 40 + rowHeight * (Double(index) + 0.5)
            let name = row.name.count > 44 ? String(row.name.prefix(43)) + "…" : row.name
            document.text("\(row.rank). \(name)", x: labelWidth - 8, y: y + 4, anchor: "end", attributes: "class=\"row-label\"")
            if let lower = row.lower, let upper = row.upper {
                document.raw("<line x1=\"\(SVGDocument.number(panel.x(lower)))\" x2=\"\(SVGDocument.number(panel.x(upper)))\" y1=\"\(SVGDocument.number(y))\" y2=\"\(SVGDocument.number(y))\" stroke=\"#4e79a7\" stroke-width=\"3\" opacity=\"0.5\"/>")
            }
            let interval = row.lower.flatMap { lower in row.upper.map { " [\(SVGDocument.label(lower)), \(SVGDocument.label($0))]" } } ?? ""
            document.raw(
                "<circle class=\"entry\" cx=\"\(SVGDocument.number(panel.x(row.value)))\" cy=\"\(SVGDocument.number(y))\" r=\"4\" fill=\"\(index == 0 ? "#e15759" : "#4e79a7")\" data-rank=\"\(row.rank)\" data-value=\"\(row.value)\"><title>\(SVGDocument.escape("\(row.name): \(SVGDocument.label(row.value))\(interval) \(row.detail)"))</title></circle>")
            document.text(SVGDocument.label(row.value) + interval, x: labelWidth + plotWidth + 8, y: y + 4, size: 10, color: "#555")
        }
        if board.rows.count > rows.count {
            document.text("… \(board.rows.count - rows.count) more in the report", x: labelWidth, y: document.height - 8, color: "#777")
        }
        return document.rendered
    }
}
