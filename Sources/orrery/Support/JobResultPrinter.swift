import Foundation
import SwiftProtobuf
import Wire

/// Prints a finished job on standard output, as text or JSON, and picks the exit status.
enum JobResultPrinter {
    static func print(_ job: Orrery_V1_JobInfo, json: Bool) {
        if json {
            let info = (try? job.jsonString()) ?? "{}"
            let report = job.reportJson.isEmpty ? "null" : job.reportJson
            Swift.print("{\"job\":\(info),\"report\":\(report)}")
            return
        }
        let state = String(describing: job.state)
        Swift.print(
            "job \(job.jobID) (\(job.name), \(job.workload)): \(state) in \(String(format: "%.2f", job.elapsedS)) s; "
                + "\(job.tasksDone) tasks done, \(job.tasksFailed) failed, \(job.retries) retried, "
                + "\(job.duplicatesIgnored) duplicate results ignored"
                + (job.tasksCached > 0 ? "; \(job.tasksCached) answered from the cache of earlier results" : ""))
        if !job.error.isEmpty { Swift.print("error: \(job.error)") }
        if !job.reportText.isEmpty { Swift.print(job.reportText) }
    }

    static func exitCode(for job: Orrery_V1_JobInfo) -> Int32 {
        job.state == .succeeded ? 0 : CommandFailure.jobFailed
    }
}
