/// The dimensions of a tensor, outermost first (row-major: the last dimension is contiguous).
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public let dimensions: [Int]

    public init(_ dimensions: [Int]) {
        precondition(dimensions.allSatisfy { $0 >= 0 }, "negative dimension in \(dimensions)")
        self.dimensions = dimensions
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var rank: Int { dimensions.count }
    /// Number of elements (1 for a scalar of rank 0).
    public var count: Int { dimensions.reduce(1, *) }
    public subscript(axis: Int) -> Int { dimensions[axis] }
    public var description: String { "[\(dimensions.map(String.init).joined(separator: ", "))]" }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var strides = Array(repeating: 1, count: rank)
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= dimensions[axis]
        }
        return strides
    }

    /// An axis index that may count from the end (-1 is the last), checked.
    public func normalize(axis: Int) throws(TensorError) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < max(rank, 1) else { throw TensorError(.badAxis(axis: axis, shape: self)) }
        return resolved
    }

    /// The shape two operands broadcast to (NumPy rules: align from the right, 1 stretches).
    public static func broadcast(_ a: Shape, _ b: Shape) throws(TensorError) -> Shape {
        let rank = max(a.rank, b.rank)
        var result = [Int](repeating: 1, count: rank)
        for offset in 0..<rank {
            let x = offset < a.rank ? a.dimensions[a.rank - 1 - offset] : 1
            let y = offset < b.rank ? b.dimensions[b.rank - 1 - offset] : 1
            guard x == y || x == 1 || y == 1 else { throw TensorError(.shapeMismatch(operation: "broadcast", a, b)) }
            result[rank - 1 - offset] = x == 1 ? y : x  // 1 stretches, even to 0
        }
        return Shape(result)
    }
}
