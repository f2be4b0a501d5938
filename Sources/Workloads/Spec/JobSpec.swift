import Yams

/// A validated job: the fields every job has, plus the workload's own section.
///
/// ```yaml
/// name: branin-grid       # required
/// workload: sweep         # required: a kind from the registry
/// max_attempts: 3         # leases per task before it fails (default 3)
/// task_timeout: 60s       # an attempt silent this long (no progress report) is leased again (default 10m; 0 = never)
/// max_in_flight: 0        # tasks of this job leased at once, cluster-wide (0 = no limit)
/// sweep:                  # the section named after the workload
///   function: branin
/// ```
public struct JobSpec {
    public let name: String
    public let workload: any Workload
    public let maxAttempts: Int
    public let taskTimeoutMilliseconds: Int
    public let maxInFlight: Int
    /// The original text, kept so that the job can be shown and resubmitted as written.
    public let yaml: String
    public let source: String
}

/// A spec together with the planner made from it: what `parse` hands back once everything,
/// including the workload's own section, has been checked.
public struct ValidatedJob {
    public let spec: JobSpec
    public let planner: any Planner
}

extension JobSpec {
    /// The largest spec accepted, in bytes: a coordinator keeps every job's spec, so this
    /// bounds what one submission can make it hold.
    public static let maximumBytes = 256 * 1024
    /// The longest job name, in bytes; names are shown in every status reply.
    public static let maximumNameBytes = 200

    /// Parses and validates `yaml`, building the workload's planner (which validates its
    /// section). Nothing runs; an invalid spec throws before any process is started.
    public static func parse(yaml: String, source: String, registry: WorkloadRegistry) throws(SpecError) -> ValidatedJob {
        guard yaml.utf8.count <= maximumBytes else {
            throw SpecError(
                source: source, line: nil, column: nil, field: "",
                message: "the spec is \(yaml.utf8.count) bytes; at most \(maximumBytes) are accepted")
        }
        let root = try rootNode(yaml: yaml, source: source)
        let fields = try root.mapping()
        let nameNode = try fields.required("name")
        let name = try nameNode.string(maximumBytes: maximumNameBytes)
        guard !nameNode.isPlainNonText else { throw nameNode.error("a job name is text; quote it to use \(nameNode.shown) as one") }
        guard name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw nameNode.error("a job name is one line of printable text")
        }
        let kindNode = try fields.required("workload")
        let workload = try registry.workload(kindNode.choice(registry.kinds))
        let maxAttempts = try fields.optional("max_attempts")?.int(in: 1...100) ?? 3
        let timeout = try fields.optional("task_timeout")?.milliseconds() ?? 600_000
        guard timeout <= Int(UInt32.max) else { throw fields.optional("task_timeout")!.error("is too long") }
        let maxInFlight = try fields.optional("max_in_flight")?.int(in: 0...Int(Int32.max)) ?? 0
        let sectionNode = fields.optional(workload.kind)
            ?? SpecNode(node: .mapping(Node.Mapping([])), path: workload.kind, source: source)
        let section = try sectionNode.mapping()
        try fields.finish()
        let spec = JobSpec(
            name: name, workload: workload, maxAttempts: maxAttempts, taskTimeoutMilliseconds: timeout,
            maxInFlight: maxInFlight, yaml: yaml, source: source)
        let planner = try workload.makePlanner(section)
        try section.finish()
        return ValidatedJob(spec: spec, planner: planner)
    }

    static func rootNode(yaml: String, source: String) throws(SpecError) -> SpecNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error, source: source, yaml: yaml)
        } catch {
            throw SpecError(source: source, line: nil, column: nil, field: "", message: "not valid YAML: \(error)")
        }
        guard let node else {
            throw SpecError(source: source, line: nil, column: nil, field: "", message: "the spec is empty")
        }
        return SpecNode(node: node, path: "", source: source)
    }

    /// A key given twice, reported where it is given again (the parser only knows where it
    /// was first): the next line after the first that starts with the same key at the same
    /// column.
    static func duplicateKeyError(keys: [String], first: Mark, yaml: String, source: String) -> SpecError {
        let key = keys.first ?? ""
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = String(repeating: " ", count: max(0, first.column - 1))
        let again = lines.indices.dropFirst(first.line).first { index in
            let line = lines[index]
            guard line.hasPrefix(indent + key) else { return false }
            return line.dropFirst(indent.count + key.count).drop(while: { $0 == " " }).first == ":"
        }
        return SpecError(
            source: source, line: again.map { $0 + 1 } ?? first.line, column: first.column,
            field: keys.joined(separator: ", "), message: "appears more than once in the same mapping (first at line \(first.line))")
    }

    static func syntaxError(_ error: YamlError, source: String, yaml: String = "") -> SpecError {
        switch error {
        case .duplicatedKeysInMapping(let keys, let context):
            Self.duplicateKeyError(keys: keys, first: context.mark, yaml: yaml, source: source)
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            SpecError(source: source, line: mark.line, column: mark.column, field: "", message: "not valid YAML: \(problem)")
        default:
            SpecError(source: source, line: nil, column: nil, field: "", message: "not valid YAML: \(error)")
        }
    }
}
