import Foundation
import Wire

/// Evaluates a batch of points of one benchmark function.
struct SweepExecutor: Executor {
    func execute(_ payload: Data, context: TaskContext) throws -> TaskOutput {
        let task = try EnvelopeCodec.decodePayload(Orrery_V1_Workloads_SweepTask.self, from: payload)
        guard let function = BenchmarkFunction.named(task.function) else {
            throw TaskError("unknown benchmark function '\(task.function)'", retryable: false)
        }
        var result = Orrery_V1_Workloads_SweepResult()
        result.values.reserveCapacity(task.points.count)
        for (index, point) in task.points.enumerated() {
            if let fixed = function.fixedDimension, point.x.count != fixed {
                throw TaskError("point \(index) has \(point.x.count) coordinates; \(function.name) takes \(fixed)", retryable: false)
            }
            guard point.x.count >= 2, point.x.allSatisfy(\.isFinite) else {
                throw TaskError("point \(index) is not a finite point of 2 or more coordinates", retryable: false)
            }
            if index % 1024 == 0 { try context.checkCancellation() }
            result.values.append(function.evaluate(point.x))
        }
        let best = result.values.min() ?? .nan
        return TaskOutput(metrics: ["best": best, "points": Double(task.points.count)], payload: EnvelopeCodec.encodePayload(result))
    }
}
