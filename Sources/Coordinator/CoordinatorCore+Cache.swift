import Foundation
import Runtime
import Wire
import Workloads

/// The cross-job cache: a task whose planner gave it a `cacheKey` is answered from the
/// ledger when its output was recorded before (in this job or any earlier one), instead of
/// running again. Planners opt in per task (a prompt's score on given examples, model and
/// cut); without a ledger there is no cache.
extension CoordinatorCore {
    /// Takes out of `tasks` those the cache answers, queueing their outcomes for
    /// `deliverCachedAnswers`; returns the tasks still to run.
    func answerFromCache(_ tasks: [PlannedTask], job: Job) -> [PlannedTask] {
        guard let ledger, tasks.contains(where: { $0.cacheKey != nil }) else { return tasks }
        var toRun: [PlannedTask] = []
        for task in tasks {
            guard let key = task.cacheKey, let stored = try? ledger.cached(key),
                let success = try? Orrery_V1_TaskSuccess(serializedBytes: stored)
            else {
                toRun.append(task)
                continue
            }
            let output = TaskOutput(metrics: success.metrics, payload: success.payload)
            job.cachedAnswersPending += 1
            cachedAnswers.push((job.id, TaskOutcome(key: task.key, result: .success(output), attempts: 0, workerID: "cache")))
        }
        return toRun
    }

    /// Hands queued cache answers to their planners, a bounded number per turn (each may
    /// plan more tasks, which may be answered from the cache in turn).
    func deliverCachedAnswers() {
        var delivered = 0
        while delivered < 1_000, let (jobID, outcome) = cachedAnswers.pop() {
            delivered += 1
            guard let job = jobs[jobID], job.isRunning else { continue }
            job.cachedAnswersPending -= 1
            job.tasksCached += 1
            counters.increment(.cacheHits)
            deliver(outcome, to: job)
        }
    }

    /// Keeps a success whose task has a cache key, for later tasks with the same key.
    func recordCached(_ key: String, _ success: Orrery_V1_TaskSuccess) {
        guard let ledger, let bytes: Data = try? success.serializedBytes() else { return }
        ledger.append(.cached(key: key, value: bytes))
    }
}
