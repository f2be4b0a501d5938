import Foundation

/// When a parameter exists: `depth >= 3`, `family == cnn`, `residual != false`. A parameter
/// with conditions is part of a configuration only when every one holds; one that names a
/// parameter the configuration lacks does not hold.
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", atLeast = ">=", atMost = "<=", greater = ">", less = "<"
    }

    public let name: String
    public let comparison: Comparison
    public let value: ParameterValue

    public init(name: String, comparison: Comparison, value: ParameterValue) {
        self.name = name
        self.comparison = comparison
        self.value = value
    }

    /// Reads `name op value` (spaces optional around the operator).
    /// - Throws: a message naming what is wrong.
    public init(parsing text: String) throws(SearchSpaceError) {
        // Two-character operators first, so that ">=" is not read as ">".
        let operators = Comparison.allCases.sorted { $0.rawValue.count > $1.rawValue.count }
        for comparison in operators {
            guard let range = text.range(of: comparison.rawValue) else { continue }
            let name = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let value = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !value.isEmpty, !value.contains(where: { "<>=!".contains($0) }) else { break }
            self.init(name: name, comparison: comparison, value: ParameterValue(parsing: value))
            return
        }
        throw SearchSpaceError("condition '\(text)': expected 'name OP value' with OP one of ==, !=, >=, <=, >, <")
    }

    /// Whether the condition holds for `settings` (a configuration being built).
    public func holds(in settings: [String: ParameterValue]) -> Bool {
        guard let actual = settings[name] else { return false }
        switch comparison {
        case .equal: return actual == value || (actual.number != nil && actual.number == value.number)
        case .notEqual: return !(actual == value || (actual.number != nil && actual.number == value.number))
        case .atLeast, .atMost, .greater, .less:
            guard let x = actual.number, let y = value.number else { return false }
            switch comparison {
            case .atLeast: return x >= y
            case .atMost: return x <= y
            case .greater: return x > y
            default: return x < y
            }
        }
    }

    public var description: String { "\(name) \(comparison.rawValue) \(value)" }
}

/// What is wrong with a search space or a configuration, in words.
public struct SearchSpaceError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
