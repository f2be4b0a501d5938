/// An image and its attribution map side by side, as SVG: the image in grey, then each
/// pixel's attribution in red (toward the class) or blue (away from it), its strength
/// scaled to the largest one; channels are summed. Each cell of the map carries
/// `data-row`, `data-column` and `data-attribution`.
public enum PixelMapPlot {
    public static func svg(imageShape: [Int], pixels: [Float], attributions: [Float], title: String) -> String {
        let height = imageShape.count >= 2 ? imageShape[imageShape.count - 2] : 1
        let width = imageShape.last ?? pixels.count
        let plane = max(1, height * width)
        let channels = max(1, pixels.count / plane)
        func summed(_ values: [Float]) -> [Float] {
            (0..<plane).map { cell in (0..<channels).reduce(Float(0)) { $0 + (values.indices.contains($1 * plane + cell) ? values[$1 * plane + cell] : 0) } }
        }
        let image = summed(pixels), map = summed(attributions)
        let cell = max(4.0, min(16.0, 320.0 / Double(max(height, width))))
        let side = cell * Double(max(height, width))
        var document = SVGDocument(width: 2 * side + 90, height: side + 80, title: title)
        let (low, high) = (image.min() ?? 0, image.max() ?? 1)
        let largest = map.map(abs).max() ?? 0
        for row in 0..<height {
            for column in 0..<width {
                let index = row * width + column
                let grey = high > low ? Int(255 * (1 - (image[index] - low) / (high - low))) : 255
                let y = 40 + Double(row) * cell
                document.raw(rect(x: 30 + Double(column) * cell, y: y, cell: cell, fill: "rgb(\(grey),\(grey),\(grey))", extra: ""))
                let strength = largest > 0 ? Double(abs(map[index]) / largest) : 0
                let shade = Int(255 * (1 - strength))
                let fill = map[index] >= 0 ? "rgb(255,\(shade),\(shade))" : "rgb(\(shade),\(shade),255)"
                document.raw(rect(
                    x: 60 + side + Double(column) * cell, y: y, cell: cell, fill: fill,
                    extra: " class=\"attribution\" data-row=\"\(row)\" data-column=\"\(column)\" data-attribution=\"\(map[index])\""))
            }
        }
        document.text("image", x: 30 + side / 2, y: side + 58, anchor: "middle", color: "#555")
        document.text("attribution (red: toward the class, blue: away)", x: 60 + side * 1.5, y: side + 58, anchor: "middle", color: "#555")
        return document.rendered
    }

    private static func rect(x: Double, y: Double, cell: Double, fill: String, extra: String) -> String {
        "<rect x=\"\(SVGDocument.number(x))\" y=\"\(SVGDocument.number(y))\" width=\"\(SVGDocument.number(cell))\" height=\"\(SVGDocument.number(cell))\" fill=\"\(fill)\"\(extra)/>"
    }
}
