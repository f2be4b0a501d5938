/// A job spec that cannot run, with the place in the file that is wrong.
///
/// `description` reads like a compiler diagnostic, `jobs/x.yaml:7:3: sweep.points: expected
/// a positive integer, got 'many'`, so an editor can jump to it.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    /// The file (or "<spec>" when the text came from elsewhere).
    public let source: String
    /// 1-based line and column, when the error concerns one place.
    public let line: Int?
    public let column: Int?
    /// Dotted path of the field, e.g. "sweep.points"; empty for the document itself.
    public let field: String
    public let message: String

    public init(source: String, line: Int?, column: Int?, field: String, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = source
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}
