import Foundation

/// The pieces every Orrery chart is built from: an SVG 1.1 document with a white ground,
/// escaped text, compact numbers, and a plotting panel that maps data to pixels. Plain SVG,
/// no scripts, so a browser, an image viewer or the dashboard (which inlines it) shows it.
public struct SVGDocument {
    public let width: Double
    public let height: Double
    private var parts: [String] = []

    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        parts.append("<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>")
        text(title, x: width / 2, y: 20, anchor: "middle", size: 14)
    }

    public mutating func text(_ content: String, x: Double, y: Double, anchor: String = "start", size: Int = 12, color: String = "#222", attributes: String = "") {
        parts.append("<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" fill=\"\(color)\"\(attributes.isEmpty ? "" : " " + attributes)>\(Self.escape(content))</text>")
    }

    /// Appends raw SVG (built with `escape` for any text in it).
    public mutating func raw(_ element: String) { parts.append(element) }

    public var rendered: String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.number(width))" height="\(Self.number(height))" viewBox="0 0 \(Self.number(width)) \(Self.number(height))" font-family="sans-serif" font-size="12">
        \(parts.joined(separator: "\n"))
        </svg>

        """
    }

    /// Text made safe for SVG content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters are not allowed in XML 1.0.
                if character.value < 0x20 && character != "\n" && character != "\t" { out += " " } else { out.unicodeScalars.append(character) }
            }
        }
        return out
    }

    /// A coordinate with one decimal at most.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// A tick label: 3 significant digits, thousands as k/M.
    public static func label(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "-∞") }
        let magnitude = abs(value)
        if magnitude >= 1e6 { return String(format: "%.3gM", value / 1e6) }
        if magnitude >= 1e4 { return String(format: "%.3gk", value / 1e3) }
        return String(format: "%.3g", value)
    }
}

/// A rectangle of the document where data coordinates become pixels, with a frame, axis
/// labels and end ticks.
public struct PlotPanel {
    public let left: Double, top: Double, width: Double, height: Double
    public let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    /// The data's own extent, where the axes are labelled.
    let xData: ClosedRange<Double>, yData: ClosedRange<Double>

    /// A panel over the data's extent, padded by 5% (a single value by a tenth of itself).
    public init(left: Double, top: Double, width: Double, height: Double, xs: [Double], ys: [Double]) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
        (xData, xRange) = Self.extent(xs)
        (yData, yRange) = Self.extent(ys)
    }

    public func x(_ value: Double) -> Double { left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width }
    public func y(_ value: Double) -> Double { top + height - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * height }

    /// The frame, the axis titles and the end values of both axes.
    public func frame(into document: inout SVGDocument, xTitle: String, yTitle: String) {
        document.raw("<rect x=\"\(SVGDocument.number(left))\" y=\"\(SVGDocument.number(top))\" width=\"\(SVGDocument.number(width))\" height=\"\(SVGDocument.number(height))\" fill=\"none\" stroke=\"#999\"/>")
        document.text(xTitle, x: left + width / 2, y: top + height + 30, anchor: "middle", color: "#555")
        document.text(yTitle, x: left, y: top - 6, color: "#555")
        for value in Set([xData.lowerBound, xData.upperBound]) {
            document.text(SVGDocument.label(value), x: x(value), y: top + height + 14, anchor: "middle", size: 10, color: "#555")
        }
        for value in Set([yData.lowerBound, yData.upperBound]) {
            document.text(SVGDocument.label(value), x: left - 4, y: y(value) + 4, anchor: "end", size: 10, color: "#555")
        }
    }

    /// The finite values' extent, and the range drawn: the extent padded by 5%.
    static func extent(_ values: [Double]) -> (data: ClosedRange<Double>, drawn: ClosedRange<Double>) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return (0...1, 0...1) }
        let pad = high > low ? (high - low) * 0.05 : (low == 0 ? 1 : abs(low) * 0.1)
        return (low...high, (low - pad)...(high + pad))
    }
}

/// Ten colours that stay apart on white (Tableau's 10), for series by index.
enum Palette {
    static let colors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static func color(_ index: Int) -> String { colors[index % colors.count] }
}
