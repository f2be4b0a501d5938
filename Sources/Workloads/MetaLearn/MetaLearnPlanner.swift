import Foundation
import Wire

/// One task (a gang task when `workers` is set): meta-train, evaluate, report.
enum MetaLearnPlanner {
    static func make(_ task: Orrery_V1_Workloads_MetaLearnTask) -> SingleTaskPlanner {
        SingleTaskPlanner(
            key: "meta-learn", payload: EnvelopeCodec.encodePayload(task),
            gang: SingleTaskPlanner.gang(minimum: task.workersMin, maximum: task.workersMax)
        ) { MetaLearnReport(task: task, output: $0).jobReport() }
    }
}
