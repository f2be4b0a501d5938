import Reporting
import Yams

/// A job spec's settings as hyperparameters for TensorBoard's HParams tab: every number,
/// string and boolean in it, named by its path (`train.learning_rate`), lists and deeper
/// tables included (`nas.space.width` …), capped at `maximumCount`.
public enum SpecHyperparameters {
    public static let maximumCount = 200

    /// Empty when the text is not YAML (the spec was validated before this is asked).
    public static func flatten(yaml: String) -> [String: HyperparameterValue] {
        guard let node = try? Yams.compose(yaml: yaml) else { return [:] }
        var values: [String: HyperparameterValue] = [:]
        visit(node, path: "", into: &values)
        return values
    }

    private static func visit(_ node: Node, path: String, into values: inout [String: HyperparameterValue]) {
        guard values.count < maximumCount else { return }
        switch node {
        case .scalar(let scalar):
            guard !path.isEmpty else { return }
            if let flag = Bool.construct(from: scalar), ["true", "false", "yes", "no"].contains(scalar.string.lowercased()) {
                values[path] = .flag(flag)
            } else if let number = Double(scalar.string) {
                values[path] = .number(number)
            } else {
                values[path] = .text(String(scalar.string.prefix(200)))
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                visit(value, path: path.isEmpty ? name : path + "." + name, into: &values)
            }
        case .sequence(let sequence):
            for (index, value) in sequence.enumerated() { visit(value, path: "\(path)[\(index)]", into: &values) }
        case .alias:
            return
        }
    }
}
