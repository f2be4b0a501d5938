import Client
import Foundation
import Messaging
import Runtime
import Wire

/// Submits a job and follows it to the end, showing progress: the shared core of
/// `orrery submit` and `orrery launch`.
enum ClusterJobRunner {
    static func run(yaml: String, source: String, endpoint: String, context: ZMQContext, quiet: Bool, curve: CurveSecurity? = nil) throws
        -> Orrery_V1_JobInfo
    {
        let client = try CoordinatorClient(endpoint: endpoint, context: context, curve: curve)
        let jobID: String
        do {
            jobID = try client.submit(specYAML: yaml, sourceName: source, watch: true)
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
        var view = JobProgressView(quiet: quiet)
        defer { view.finish() }
        do {
            return try client.follow(jobID: jobID, onUpdate: { view.show($0) }, shouldStop: { SignalTrap.pending != nil })
        } catch let error as ClientError where error.kind == .interrupted {
            view.finish()
            throw CommandFailure.exit("interrupted; job \(jobID) left running on \(endpoint)", code: CommandFailure.interrupted)
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
    }
}
