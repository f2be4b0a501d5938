import Foundation
import Reporting
import Runtime
import Synchronization

/// Runs a validated job to the end in this process: the planner's tasks go straight to the
/// workload's executor, in order. What `orrery train` uses for single-process training,
/// and what tests use to check planning logic without daemons.
public enum LocalJobRunner {
    /// - Parameters:
    ///   - onProgress: receives each task's progress reports.
    ///   - onPoints: receives each curve point as it is recorded (for a TensorBoard file).
    /// - Returns: the planner's final report (with the curve and leaderboard files every
    ///   job gets, see `ReportArtifacts`) and the number of tasks executed.
    public static func run(
        _ job: ValidatedJob, onProgress: @escaping @Sendable (String, Float, String) -> Void = { _, _, _ in },
        onPoints: @escaping @Sendable ([CurvePoint]) -> Void = { _ in }
    ) throws -> (report: JobReport, tasks: Int, failure: String?) {
        let executor = try job.spec.workload.makeExecutor()
        var queue = FIFO<PlannedTask>()
        job.planner.start().forEach { queue.push($0) }
        var executed = 0
        let curves = SharedCurves()
        while let task = queue.pop() {
            let key = task.key
            let context = TaskContext(
                taskID: key, attempt: 1, isCancelled: { false }, reportProgress: { onProgress(key, $0, $1) },
                recordScalars: { scalars in
                    let wallTime = Date().timeIntervalSince1970
                    let points = curves.set.withLock { set in
                        scalars.map { set.append(task: key, tag: $0.tag, step: $0.step, value: $0.value, wallTime: wallTime) }
                    }
                    onPoints(points)
                })
            let result: TaskOutcome.Result
            do {
                result = .success(try executor.execute(task.payload, context: context))
            } catch {
                result = .failure("\(error)")
            }
            executed += 1
            job.planner.consume(TaskOutcome(key: key, result: result, attempts: 1, workerID: "local")).forEach { queue.push($0) }
        }
        var report = job.planner.report()
        ReportArtifacts.add(to: &report, planner: job.planner, curves: curves.set.withLock { $0 }, title: job.spec.name)
        return (report, executed, job.planner.failureReason)
    }
}

/// The curves of a local run, written by the task's context from whatever thread runs it.
private final class SharedCurves: Sendable {
    let set = Mutex(CurveSet())
}
