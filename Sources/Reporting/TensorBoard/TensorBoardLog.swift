import Foundation

/// A job's TensorBoard directory: one run per task (a subdirectory named after the task's
/// key, so NAS trials or prompt-tuning runs appear side by side), each with its curves and
/// the job's hyperparameters. Points are appended as they arrive and flushed per batch,
/// so TensorBoard pointed at the directory follows a running job.
public final class TensorBoardLog {
    public let directory: String
    private let hyperparameters: [String: HyperparameterValue]
    private var runs: [String: EventFileWriter] = [:]
    private var lastSequence: UInt64 = 0

    public init(directory: String, hyperparameters: [String: HyperparameterValue] = [:]) {
        self.directory = directory
        self.hyperparameters = hyperparameters
    }

    /// Writes `points` (any it already wrote, by sequence, are skipped) and flushes.
    /// - Throws: `ReportingError.io` when a run's file cannot be made or written.
    public func write(_ points: some Sequence<CurvePoint>) throws(ReportingError) {
        var touched: Set<String> = []
        for point in points where point.sequence > lastSequence {
            lastSequence = point.sequence
            let run = try writer(for: point.task)
            run.scalar(point.tag, point.value, step: point.step, wallTime: point.wallTime)
            touched.insert(point.task)
        }
        for task in touched { try runs[task]?.flush() }
    }

    /// Records how the job ended in every run (the HParams tab's status) and flushes.
    public func finish(succeeded: Bool) throws(ReportingError) {
        for run in runs.values {
            run.sessionEnded(succeeded: succeeded)
            try run.flush()
        }
    }

    /// The run directory of a task: its key with anything but letters, digits, '-', '_'
    /// and '.' replaced, so a key never climbs out of the directory.
    public static func runName(_ task: String) -> String {
        let cleaned = String(task.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" }.prefix(100))
        return cleaned.isEmpty || cleaned.allSatisfy({ $0 == "." }) ? "task" : cleaned
    }

    private func writer(for task: String) throws(ReportingError) -> EventFileWriter {
        if let run = runs[task] { return run }
        let run = try EventFileWriter(directory: (directory as NSString).appendingPathComponent(Self.runName(task)))
        if !hyperparameters.isEmpty { run.hyperparameters(hyperparameters, metrics: []) }
        runs[task] = run
        return run
    }
}
