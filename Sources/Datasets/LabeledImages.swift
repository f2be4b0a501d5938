import Foundation
import Tensor

/// Images as rows of a [count, features] tensor scaled to [0, 1], with integer labels.
public struct LabeledImages {
    public let images: Tensor
    public let labels: [Int]
    public let imageShape: [Int]
    public let classes: Int

    public var count: Int { labels.count }

    public init(images: Tensor, labels: [Int], imageShape: [Int], classes: Int) {
        self.images = images
        self.labels = labels
        self.imageShape = imageShape
        self.classes = classes
    }

    /// The examples at `indices`, in that order (a batch).
    public func batch(_ indices: some Collection<Int>) -> (images: Tensor, labels: [Int]) {
        let features = images.shape[1]
        let out = Storage(count: indices.count * features)
        images.storage.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    (target.baseAddress! + row * features).update(from: source.baseAddress! + index * features, count: features)
                }
            }
        }
        return (Tensor(shape: [indices.count, features], storage: out), indices.map { labels[$0] })
    }
}
