/// A spec's `workers` field: how many workers one gang task runs on, as a number
/// (`workers: 2`) or a range the coordinator may form the gang within
/// (`workers: {min: 1, max: 4}`). Absent: (0, 0), a task for one worker without a gang.
public enum GangSpec {
    public static func parse(_ node: SpecNode?, allowed: ClosedRange<Int>) throws(SpecError) -> (minimum: UInt32, maximum: UInt32) {
        guard let node else { return (0, 0) }
        if let range = try? node.mapping() {
            let minimum = try range.required("min").int(in: allowed)
            let maximum = try range.required("max").int(in: minimum...allowed.upperBound)
            try range.finish()
            return (UInt32(minimum), UInt32(maximum))
        }
        let count = try node.int(in: allowed)
        return (UInt32(count), UInt32(count))
    }
}
