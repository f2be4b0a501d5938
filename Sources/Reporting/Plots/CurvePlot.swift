/// Training curves as SVG: one panel per tag (loss, accuracy, learning rate…), each task's
/// series a coloured line with a dot per point; a legend names the tasks when there are
/// several (NAS trials, say). Each dot carries `data-tag`, `data-task`, `data-step` and
/// `data-value`, so a page that inlines the chart can be checked point by point.
public enum CurvePlot {
    /// Panels drawn at most; the first tags seen win.
    public static let maximumPanels = 12

    public static func svg(_ curves: CurveSet, title: String) -> String {
        let tags = Array(curves.tags.prefix(maximumPanels))
        let columns = min(3, max(1, tags.count)), rows = (tags.count + columns - 1) / columns
        let (panelWidth, panelHeight) = (300.0, 180.0)
        let tasks = orderedTasks(curves)
        let legendHeight = tasks.count > 1 ? 18.0 * Double(min(tasks.count, 10)) + 10 : 0
        var document = SVGDocument(
            width: Double(columns) * (panelWidth + 80) + 20, height: Double(max(1, rows)) * (panelHeight + 70) + 40 + legendHeight, title: title)
        if tags.isEmpty {
            document.text("no curves reported yet", x: document.width / 2, y: 60, anchor: "middle", color: "#777")
        }
        for (index, tag) in tags.enumerated() {
            let left = 70 + Double(index % columns) * (panelWidth + 80), top = 56 + Double(index / columns) * (panelHeight + 70)
            let series = curves.series(tag)
            let all = series.flatMap(\.points)
            let panel = PlotPanel(left: left, top: top, width: panelWidth, height: panelHeight, xs: all.map { Double($0.step) }, ys: all.map(\.value))
            panel.frame(into: &document, xTitle: "step", yTitle: tag)
            for (task, points) in series {
                let color = Palette.color(tasks.firstIndex(of: task) ?? 0)
                let finite = points.filter(\.value.isFinite)
                let line = finite.map { "\(SVGDocument.number(panel.x(Double($0.step)))),\(SVGDocument.number(panel.y($0.value)))" }
                if line.count > 1 {
                    document.raw("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(line.joined(separator: " "))\"/>")
                }
                // Dots only where they can still be told apart.
                guard finite.count <= 400 else { continue }
                for point in finite {
                    document.raw(
                        "<circle class=\"point\" cx=\"\(SVGDocument.number(panel.x(Double(point.step))))\" cy=\"\(SVGDocument.number(panel.y(point.value)))\" r=\"2.5\" fill=\"\(color)\" data-tag=\"\(SVGDocument.escape(tag))\" data-task=\"\(SVGDocument.escape(task))\" data-step=\"\(point.step)\" data-value=\"\(point.value)\"><title>\(SVGDocument.escape("\(task) \(tag) step \(point.step): \(SVGDocument.label(point.value))"))</title></circle>")
                }
            }
        }
        if tasks.count > 1 {
            let top = document.height - legendHeight
            for (index, task) in tasks.prefix(10).enumerated() {
                let y = top + 18 * Double(index)
                document.raw("<rect x=\"70\" y=\"\(SVGDocument.number(y))\" width=\"12\" height=\"12\" fill=\"\(Palette.color(index))\"/>")
                document.text(task, x: 88, y: y + 10)
            }
            if tasks.count > 10 { document.text("… and \(tasks.count - 10) more (colours repeat)", x: 300, y: top + 10, color: "#777") }
        }
        return document.rendered
    }

    private static func orderedTasks(_ curves: CurveSet) -> [String] {
        var seen: Set<String> = []
        return curves.points.compactMap { seen.insert($0.task).inserted ? $0.task : nil }
    }
}
