import Yams

/// The fields of one mapping in a job spec. It remembers which fields were read, so that
/// `finish()` can reject a misspelt or unknown field instead of silently ignoring it.
public final class SpecMapping {
    private let fields: [(key: String, keyNode: Node, value: Node)]
    private var read: Set<String> = []
    /// The mapping itself, for errors about a missing field.
    public let node: SpecNode

    init(_ mapping: Node.Mapping, node: SpecNode) throws(SpecError) {
        self.node = node
        var fields: [(key: String, keyNode: Node, value: Node)] = []
        // Duplicate keys never get here: the YAML parser refuses them (see JobSpec.syntaxError).
        for (key, value) in mapping {
            let keyNode = SpecNode(node: key, path: node.path, source: node.source)
            guard case .scalar(let scalar) = key else { throw keyNode.error("field names must be plain text") }
            fields.append((scalar.string, key, value))
        }
        self.fields = fields
    }

    static func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    /// The field, if present.
    public func optional(_ key: String) -> SpecNode? {
        read.insert(key)
        guard let field = fields.first(where: { $0.key == key }) else { return nil }
        return SpecNode(node: field.value, path: Self.join(node.path, key), source: node.source)
    }

    /// The field; its absence is an error naming it, or, when a field not yet read is
    /// spelt almost like it, an error at that misspelling.
    public func required(_ key: String) throws(SpecError) -> SpecNode {
        guard let value = optional(key) else {
            let unread = fields.filter { !read.contains($0.key) }
            if let near = unread.first(where: { !suggestion($0.key, [key]).isEmpty }) {
                let node = SpecNode(node: near.keyNode, path: Self.join(self.node.path, near.key), source: self.node.source)
                throw node.error("unknown field" + suggestion(near.key, [key]))
            }
            let field = Self.join(node.path, key)
            throw SpecError(
                source: node.source, line: node.node.mark?.line, column: node.node.mark?.column,
                field: field, message: "is required but missing")
        }
        return value
    }

    public var keys: [String] { fields.map(\.key) }

    /// Rejects any field that no accessor asked for.
    public func finish() throws(SpecError) {
        for field in fields where !read.contains(field.key) {
            let node = SpecNode(node: field.keyNode, path: Self.join(self.node.path, field.key), source: self.node.source)
            throw node.error("unknown field" + suggestion(field.key, Array(read).sorted()))
        }
    }
}
