import Foundation
import Tensor

/// Rows of numbers with the class label last (MNIST-5k, UCI optdigits), gzipped or not.
public enum LabeledCSV {
    /// - Parameters:
    ///   - features: values per row before the label; a row of another length is an error
    ///     naming its line.
    ///   - scale: multiplies every value (e.g. 1/255 for pixels).
    public static func load(
        _ path: String, features: Int, scale: Float, imageShape: [Int], classes: Int
    ) throws(DatasetError) -> LabeledImages {
        let bytes = try GzipFile.read(path)
        var values: [Float] = []
        var labels: [Int] = []
        var line = 0
        for row in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            line += 1
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == features + 1 else {
                throw DatasetError(path: path, "line \(line) has \(fields.count) fields; expected \(features) values and a label")
            }
            for field in fields.dropLast() {
                guard let value = Float(field.trimmingCharacters(in: .whitespaces)) else {
                    throw DatasetError(path: path, "line \(line): '\(field)' is not a number")
                }
                values.append(value * scale)
            }
            guard let label = Int(fields.last!.trimmingCharacters(in: .whitespaces)), (0..<classes).contains(label) else {
                throw DatasetError(path: path, "line \(line): label '\(fields.last!)' is not a class in 0..<\(classes)")
            }
            labels.append(label)
        }
        guard !labels.isEmpty else { throw DatasetError(path: path, "no rows") }
        return LabeledImages(
            images: Tensor(shape: [labels.count, features], storage: Storage(values)), labels: labels, imageShape: imageShape,
            classes: classes)
    }
}

extension LabeledImages {
    /// A seeded split into (train, test): the same `testFraction` of examples for the same seed.
    public func split(testFraction: Double, seed: UInt64) -> (train: LabeledImages, test: LabeledImages) {
        let order = BatchSampler(count: count, batchSize: 1, shuffle: true, seed: seed).permutation
        let testCount = Int((Double(count) * testFraction).rounded())
        let test = batch(order.prefix(testCount)), train = batch(order.dropFirst(testCount))
        return (
            LabeledImages(images: train.images, labels: train.labels, imageShape: imageShape, classes: classes),
            LabeledImages(images: test.images, labels: test.labels, imageShape: imageShape, classes: classes)
        )
    }
}
