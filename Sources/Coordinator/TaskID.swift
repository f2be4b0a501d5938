/// The wire form of a task's id, "JOB/KEY": made and taken apart here only.
///
/// Job ids never contain "/" (the coordinator makes them); keys may, so the job is what
/// comes before the first one.
enum TaskID {
    static func make(jobID: String, key: String) -> String { jobID + "/" + key }

    /// The job a wire task id names, or nil for one without a "/" (not made here).
    static func jobID(of taskID: String) -> String? {
        guard let slash = taskID.firstIndex(of: "/") else { return nil }
        return String(taskID[..<slash])
    }
}
