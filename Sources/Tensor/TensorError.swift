/// A tensor operation that cannot be carried out, with the shapes, axes or names involved.
public struct TensorError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case shapeMismatch(operation: String, Shape, Shape)
        case badAxis(axis: Int, shape: Shape)
        case countMismatch(expected: Int, got: Int, shape: Shape)
        case invalidArgument(String)
        case noGradient(String)
        case badFile(path: String, detail: String)
    }

    public let reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .shapeMismatch(let operation, let a, let b): "\(operation): shapes \(a) and \(b) do not fit"
        case .badAxis(let axis, let shape): "axis \(axis) is out of range for shape \(shape)"
        case .countMismatch(let expected, let got, let shape):
            "shape \(shape) holds \(expected) elements, got \(got)"
        case .invalidArgument(let detail): detail
        case .noGradient(let detail): detail
        case .badFile(let path, let detail): "\(path): \(detail)"
        }
    }
}
