import Foundation
import Runtime
import Yams

/// One value in a job spec, with its place in the file, read through typed accessors that
/// throw a `SpecError` naming the field and line.
public struct SpecNode {
    let node: Node
    /// Dotted path from the document root, e.g. "sweep.bounds[1]".
    public let path: String
    let source: String

    init(node: Node, path: String, source: String) {
        self.node = node
        self.path = path
        self.source = source
    }

    /// An error located at this node.
    public func error(_ message: String) -> SpecError {
        SpecError(source: source, line: node.mark?.line, column: node.mark?.column, field: path, message: message)
    }

    /// The raw text of a scalar, for messages.
    var shown: String {
        switch node {
        case .scalar(let scalar): "'\(PrintableText.escaped(scalar.string, limit: 60))'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    public func mapping() throws(SpecError) -> SpecMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of fields, got \(shown)") }
        return try SpecMapping(mapping, node: self)
    }

    /// The longest text a field may hold (`text(maximumBytes:)` takes longer where a
    /// workload needs it): every field is copied into status replies and logs.
    public static let maximumTextBytes = 4096
    /// The most items a list may hold unless its accessor says otherwise.
    public static let maximumListItems = 10_000

    public func list(maximumItems: Int = maximumListItems) throws(SpecError) -> [SpecNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, got \(shown)") }
        guard sequence.count <= maximumItems else {
            throw error("a list of at most \(maximumItems) items, got \(sequence.count)")
        }
        return sequence.enumerated().map { SpecNode(node: $1, path: "\(path)[\($0)]", source: source) }
    }

    public func string(maximumBytes: Int = maximumTextBytes) throws(SpecError) -> String {
        let value = try text(maximumBytes: maximumBytes)
        guard !value.isEmpty, !isPlainNull else { throw error("expected text, got \(isPlainNull ? "null (\(shown))" : shown)") }
        return value
    }

    /// An unquoted scalar that YAML reads as null (`~`, `null`, nothing).
    var isPlainNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return node.null != nil
    }

    /// An unquoted scalar that YAML reads as null, a boolean or a number rather than text.
    public var isPlainNonText: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return node.null != nil || node.bool != nil || node.int != nil || node.float != nil
    }

    /// Text that may be empty (`""`), such as a prompt's empty instruction.
    public func text(maximumBytes: Int = maximumTextBytes) throws(SpecError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected text, got \(shown)") }
        guard scalar.string.utf8.count <= maximumBytes else {
            throw error("text of at most \(maximumBytes) bytes, got \(scalar.string.utf8.count)")
        }
        return scalar.string
    }

    public func int(in range: ClosedRange<Int> = Int.min...Int.max) throws(SpecError) -> Int {
        guard case .scalar = node, let value = node.int else { throw error("expected an integer, got \(shown)") }
        guard range.contains(value) else { throw error("must be in \(Self.describe(range)), got \(value)") }
        return value
    }

    public func double(in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws(SpecError) -> Double {
        guard case .scalar = node, let value = node.float, value.isFinite else {
            throw error("expected a number, got \(shown)")
        }
        guard range.contains(value) else { throw error("must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    public func bool() throws(SpecError) -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error("expected true or false, got \(shown)") }
        return value
    }

    /// A duration such as `250ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
    public func milliseconds() throws(SpecError) -> Int {
        guard let value = DurationText.milliseconds(try string()) else {
            throw error("expected a duration such as 500ms, 30s or 5m (at most 30 days), got \(shown)")
        }
        return value
    }

    /// One of `choices`; the error lists them.
    public func choice(_ choices: [String]) throws(SpecError) -> String {
        let value = try string()
        guard choices.contains(value) else {
            throw error("expected one of \(choices.joined(separator: ", ")), got '\(value)'" + suggestion(value, choices))
        }
        return value
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "\(range.lowerBound) or more" }
        return "\(range.lowerBound)...\(range.upperBound)"
    }
}

/// Closest candidate by edit distance, as " (did you mean 'x'?)", or "".
func suggestion(_ word: String, _ candidates: [String]) -> String {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return "" }
    return " (did you mean '\(best)'?)"
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
