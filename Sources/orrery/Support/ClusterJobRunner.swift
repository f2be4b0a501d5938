import Client
import Foundation
import Messaging
import Reporting
import Runtime
import Wire

/// Submits a job and follows it to the end, showing progress: the shared core of
/// `orrery submit` and `orrery launch`.
enum ClusterJobRunner {
    /// - Parameter tensorBoard: where the job's curves go as they arrive, when the
    ///   user asked for a report directory.
    static func run(
        yaml: String, source: String, endpoint: String, context: ZMQContext, quiet: Bool, curve: CurveSecurity? = nil,
        tensorBoard: TensorBoardLog? = nil
    ) throws -> Orrery_V1_JobInfo {
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
            var tensorBoardFailure: String?
            let job = try client.follow(
                jobID: jobID, onUpdate: { view.show($0) },
                onPoints: { points in
                    guard let tensorBoard, tensorBoardFailure == nil else { return }
                    do {
                        try tensorBoard.write(points.map(CurvePoint.init))
                    } catch {
                        tensorBoardFailure = "\(error)"
                    }
                },
                shouldStop: { SignalTrap.pending != nil })
            try? tensorBoard?.finish(succeeded: job.state == .succeeded)
            if let tensorBoardFailure {
                FileHandle.standardError.write(Data("orrery: TensorBoard files stopped: \(tensorBoardFailure)\n".utf8))
            }
            return job
        } catch let error as ClientError where error.kind == .interrupted {
            view.finish()
            throw CommandFailure.exit("interrupted; job \(jobID) left running on \(endpoint)", code: CommandFailure.interrupted)
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
    }
}

extension CurvePoint {
    /// A point as the wire carried it.
    init(_ wire: Orrery_V1_CurvePoint) {
        self.init(sequence: wire.sequence, task: wire.task, tag: wire.tag, step: wire.step, value: wire.value, wallTime: wire.wallTime)
    }
}
