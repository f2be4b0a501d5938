import Foundation
import Runtime

/// Runs a validated job to the end in this process: the planner's tasks go straight to the
/// workload's executor, in order. What `orrery train` uses for single-process training,
/// and what tests use to check planning logic without daemons.
public enum LocalJobRunner {
    /// - Parameter onProgress: receives each task's progress reports.
    /// - Returns: the planner's final report and the number of tasks executed.
    public static func run(
        _ job: ValidatedJob, onProgress: @escaping @Sendable (String, Float, String) -> Void = { _, _, _ in }
    ) throws -> (report: JobReport, tasks: Int, failure: String?) {
        let executor = try job.spec.workload.makeExecutor()
        var queue = FIFO<PlannedTask>()
        job.planner.start().forEach { queue.push($0) }
        var executed = 0
        while let task = queue.pop() {
            let key = task.key
            let context = TaskContext(
                taskID: key, attempt: 1, isCancelled: { false }, reportProgress: { onProgress(key, $0, $1) })
            let result: TaskOutcome.Result
            do {
                result = .success(try executor.execute(task.payload, context: context))
            } catch {
                result = .failure("\(error)")
            }
            executed += 1
            job.planner.consume(TaskOutcome(key: key, result: result, attempts: 1, workerID: "local")).forEach { queue.push($0) }
        }
        return (job.planner.report(), executed, job.planner.failureReason)
    }
}
