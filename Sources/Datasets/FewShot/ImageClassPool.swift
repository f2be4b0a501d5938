/// Classes of square grey images, each with its examples, for few-shot episodes.
///
/// Every class remembers the source class it was made from (a rotation of "mnist 3" is
/// still from "mnist 3"), so that splits can keep all views of one source class together:
/// a meta-test class is then never a rotated copy of a meta-train class.
public struct ImageClassPool: Sendable {
    /// One class: its examples as rows of `side × side` values in [0, 1].
    public struct ImageClass: Sendable {
        public let name: String
        /// The class it was made from, e.g. "mnist-5k:3" for "mnist-5k:3@90".
        public let source: String
        public let pixels: [Float]
        public let count: Int
    }

    public let side: Int
    public private(set) var classes: [ImageClass] = []

    public var features: Int { side * side }

    public init(side: Int) { self.side = side }

    /// Adds a class; `pixels` holds `count` images of `side × side`.
    public mutating func add(name: String, source: String, pixels: [Float]) {
        precondition(pixels.count % features == 0, "class \(name): \(pixels.count) values are not whole images")
        classes.append(ImageClass(name: name, source: source, pixels: pixels, count: pixels.count / features))
    }

    /// Indices of the classes whose source is in `sources`, in pool order.
    public func classes(from sources: Set<String>) -> [Int] {
        classes.indices.filter { sources.contains(classes[$0].source) }
    }
}
