import Runtime

/// The checks every workload's task rules make on a payload from the network, each failing
/// the task non-retryably with a message that names the workload and the field.
struct TaskRule {
    /// The workload, as messages name it ("train task", …).
    let subject: String

    func range(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(TaskError) {
        guard allowed.contains(value) else {
            throw TaskError("\(subject): \(field) must be in \(allowed.lowerBound)...\(allowed.upperBound), got \(value)", retryable: false)
        }
    }

    func count(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(TaskError) {
        guard allowed.contains(value) else {
            throw TaskError("\(subject): \(field) must list \(allowed.lowerBound)...\(allowed.upperBound) items, got \(value)", retryable: false)
        }
    }

    func choice(_ field: String, _ value: String, _ choices: [String]) throws(TaskError) {
        guard choices.contains(value) else {
            throw TaskError(
                "\(subject): unknown \(field) '\(PrintableText.escaped(value, limit: 40))'; known: \(choices.joined(separator: ", "))",
                retryable: false)
        }
    }

    func fail(_ message: String) -> TaskError { TaskError("\(subject): \(message)", retryable: false) }
}
