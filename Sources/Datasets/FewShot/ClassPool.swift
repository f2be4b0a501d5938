/// Classes of examples (image values, or sentence embeddings) as feature rows, for
/// few-shot episodes.
///
/// Every class remembers the source class it was made from (a rotation of "mnist 3" is
/// still from "mnist 3"), so that splits can keep all views of one source class together:
/// a meta-test class is then never a rotated copy of a meta-train class.
public struct ClassPool: Sendable {
    /// One class: its examples as rows of `features` values.
    public struct ExampleClass: Sendable {
        public let name: String
        /// The class it was made from, e.g. "mnist-5k:3" for "mnist-5k:3@90".
        public let source: String
        public let values: [Float]
        public let count: Int
    }

    /// Values per example (side × side for images, the embedding width for text).
    public let features: Int
    public private(set) var classes: [ExampleClass] = []

    public init(features: Int) { self.features = features }

    /// Adds a class; `values` holds `count` rows of `features` values.
    public mutating func add(name: String, source: String, values: [Float]) {
        precondition(values.count % features == 0, "class \(name): \(values.count) values are not whole images")
        classes.append(ExampleClass(name: name, source: source, values: values, count: values.count / features))
    }

    /// Indices of the classes whose source is in `sources`, in pool order.
    public func classes(from sources: Set<String>) -> [Int] {
        classes.indices.filter { sources.contains(classes[$0].source) }
    }
}
