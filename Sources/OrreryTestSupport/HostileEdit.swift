import Testing

/// One hostile change to a message, and the word its refusal must name: the argument of a
/// parameterized test that feeds a validator every out-of-range field in turn.
public struct HostileEdit<Message>: Sendable, CustomTestStringConvertible {
    public let expected: String
    public let change: @Sendable (inout Message) -> Void

    public init(_ expected: String, _ change: @escaping @Sendable (inout Message) -> Void) {
        self.expected = expected
        self.change = change
    }

    public var testDescription: String { expected }
}
