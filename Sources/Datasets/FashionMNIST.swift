import Foundation
import Tensor

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 training and 10,000 test images of
/// 28×28 grey clothing, 10 classes, from Debian's `dataset-fashion-mnist`, copied into the
/// data cache by `scripts/fetch-data`.
public enum FashionMNIST {
    public enum Split: String, Sendable {
        case train, test
        var prefix: String { self == .train ? "train" : "t10k" }
    }

    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads one split from `directory` (default: `DataCache.directory/fashion-mnist`).
    public static func load(_ split: Split, directory: String? = nil) throws(DatasetError) -> LabeledImages {
        let root = directory ?? DataCache.path("fashion-mnist")
        let images = try IDXFile(path: "\(root)/\(split.prefix)-images-idx3-ubyte.gz")
        let labels = try IDXFile(path: "\(root)/\(split.prefix)-labels-idx1-ubyte.gz")
        guard images.dimensions.count == 3, labels.dimensions.count == 1, images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError(path: root, "images \(images.dimensions) and labels \(labels.dimensions) do not match")
        }
        let features = images.dimensions[1] * images.dimensions[2]
        let scaled = Storage(images.values.map { Float($0) / 255 })
        return LabeledImages(
            images: Tensor(shape: [labels.dimensions[0], features], storage: scaled),
            labels: labels.values.map(Int.init), imageShape: [1, images.dimensions[1], images.dimensions[2]], classes: 10)
    }
}
