/// Resizing and rotating square grey images, the two transformations few-shot benchmarks
/// are built with.
public enum ImageTransform {
    /// Bilinear resampling of a `from × from` image to `to × to`, pixel centres aligned (as
    /// PyTorch's `interpolate(align_corners=False)`): halving averages each 2 × 2 block,
    /// enlarging interpolates between neighbours and repeats the edge.
    public static func resize(_ image: ArraySlice<Float>, from: Int, to: Int) -> [Float] {
        if from == to { return Array(image) }
        let base = image.startIndex
        let scale = Float(from) / Float(to)
        // Source coordinate and weights per output row/column, shared by both axes.
        let taps = (0..<to).map { index -> (Int, Int, Float) in
            let position = min(max((Float(index) + 0.5) * scale - 0.5, 0), Float(from - 1))
            let low = Int(position)
            return (low, min(low + 1, from - 1), position - Float(low))
        }
        var out = [Float](repeating: 0, count: to * to)
        for (row, (r0, r1, wr)) in taps.enumerated() {
            for (column, (c0, c1, wc)) in taps.enumerated() {
                let top = image[base + r0 * from + c0] * (1 - wc) + image[base + r0 * from + c1] * wc
                let bottom = image[base + r1 * from + c0] * (1 - wc) + image[base + r1 * from + c1] * wc
                out[row * to + column] = top * (1 - wr) + bottom * wr
            }
        }
        return out
    }

    /// The image turned `quarterTurns × 90°` counter-clockwise.
    public static func rotate(_ image: [Float], side: Int, quarterTurns: Int) -> [Float] {
        var current = image
        for _ in 0..<((quarterTurns % 4 + 4) % 4) {
            var turned = [Float](repeating: 0, count: current.count)
            for row in 0..<side {
                for column in 0..<side {
                    // Counter-clockwise: the last column becomes the first row.
                    turned[row * side + column] = current[column * side + (side - 1 - row)]
                }
            }
            current = turned
        }
        return current
    }
}
