import Foundation

/// One point of a search space: the active parameters' values, in the space's order.
///
/// Its text form, `name=value,name=value`, is its identity: it is the key a leaderboard and
/// a planner use, what crosses the wire, and what `init(encoded:)` reads back.
public struct Configuration: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let settings: [Setting]

    /// One parameter's value.
    public struct Setting: Hashable, Sendable {
        public let name: String
        public let value: ParameterValue
        public init(name: String, value: ParameterValue) {
            self.name = name
            self.value = value
        }
    }

    public init(_ settings: [Setting]) { self.settings = settings }

    /// Reads the text form back.
    /// - Throws: naming the malformed part (an item without `=`, an empty or repeated name).
    public init(encoded text: String) throws(SearchSpaceError) {
        var settings: [Setting] = []
        var seen = Set<String>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw SearchSpaceError("configuration item '\(item)' is not name=value")
            }
            let name = String(parts[0])
            guard seen.insert(name).inserted else { throw SearchSpaceError("configuration names '\(name)' twice") }
            settings.append(Setting(name: name, value: ParameterValue(parsing: String(parts[1]))))
        }
        self.settings = settings
    }

    public subscript(name: String) -> ParameterValue? { settings.first { $0.name == name }?.value }

    /// The settings as a dictionary (for conditions and interpreters).
    public var values: [String: ParameterValue] { Dictionary(settings.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) }

    public var description: String { settings.map { "\($0.name)=\($0.value)" }.joined(separator: ",") }

    public static func < (a: Configuration, b: Configuration) -> Bool { a.description < b.description }
}
