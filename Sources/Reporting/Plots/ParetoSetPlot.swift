/// A Pareto set as SVG: every point on its first two objectives, the front's members red
/// and joined in order of the first objective, the rest grey. Each dot carries
/// `data-front` ("1" on the front) and its values.
public enum ParetoSetPlot {
    public static func svg(_ set: ParetoSet, title: String) -> String {
        var document = SVGDocument(width: 560, height: 400, title: title)
        guard set.objectives.count >= 2 else {
            document.text("needs two objectives", x: 280, y: 60, anchor: "middle", color: "#777")
            return document.rendered
        }
        let usable = set.points.filter { $0.values.count >= 2 }
        let panel = PlotPanel(left: 70, top: 50, width: 440, height: 280, xs: usable.map { $0.values[1] }, ys: usable.map { $0.values[0] })
        let arrow = { (index: Int) in set.maximize.indices.contains(index) ? (set.maximize[index] ? " ↑" : " ↓") : "" }
        panel.frame(into: &document, xTitle: set.objectives[1] + arrow(1), yTitle: set.objectives[0] + arrow(0))
        let front = usable.filter(\.onFront).sorted { $0.values[1] < $1.values[1] }
        if front.count > 1 {
            let line = front.map { "\(SVGDocument.number(panel.x($0.values[1]))),\(SVGDocument.number(panel.y($0.values[0])))" }
            document.raw("<polyline fill=\"none\" stroke=\"#e15759\" stroke-dasharray=\"4 3\" points=\"\(line.joined(separator: " "))\"/>")
        }
        for point in usable.sorted(by: { !$0.onFront && $1.onFront }) {
            let values = point.values.map(SVGDocument.label).joined(separator: ", ")
            document.raw(
                "<circle class=\"pareto-point\" cx=\"\(SVGDocument.number(panel.x(point.values[1])))\" cy=\"\(SVGDocument.number(panel.y(point.values[0])))\" r=\"\(point.onFront ? 4 : 3)\" fill=\"\(point.onFront ? "#e15759" : "#aaa")\" data-front=\"\(point.onFront ? 1 : 0)\"><title>\(SVGDocument.escape("\(point.name) (\(values)) \(point.detail)"))</title></circle>")
        }
        document.text("\(front.count) of \(usable.count) on the front over \(set.objectives.joined(separator: ", "))", x: 280, y: 388, anchor: "middle", color: "#555")
        return document.rendered
    }
}
