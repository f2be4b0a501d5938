import Collectives
import Foundation
import Messaging
import Synchronization
import Workloads

/// Runs an executor as the members of one gang, each a thread of this process with its own
/// data-plane endpoint on loopback TCP: the sockets, frames and code paths of separate
/// workers, without their processes.
enum GangHarness {
    /// Runs `payload` on `members` ranks at once and returns each rank's outcome, in rank
    /// order. `context(rank, gang)` makes each rank's task context.
    static func run(
        members: Int, executor: any Executor, payload: Data, collectiveID: String, timeoutMilliseconds: Int = 20_000,
        context: @escaping @Sendable (Int, Gang) -> TaskContext
    ) throws -> [Result<TaskOutput, any Error>] {
        let zmq = try ZMQContext()
        let planes = try (0..<members).map { _ in try DataPlaneEndpoint(context: zmq, bind: "tcp://127.0.0.1:*") }
        defer { planes.forEach { $0.close() } }
        let outcomes = Mutex<[Int: Result<TaskOutput, any Error>]>([:])
        let group = DispatchGroup()
        for rank in 0..<members {
            let topology = RingTopology(rank: rank, endpoints: planes.map(\.endpoint), collectiveID: collectiveID, timeoutMilliseconds: timeoutMilliseconds)
            let plane = planes[rank]
            let gang = Gang(topology: topology, workerIDs: (0..<members).map { "w\($0)" }) { isCancelled throws(CollectiveError) in
                try Communicator(topology: topology, dataPlane: plane, context: zmq, isCancelled: isCancelled)
            }
            group.enter()
            Thread {
                defer { group.leave() }
                let outcome = Result { try executor.execute(payload, context: context(rank, gang)) }
                outcomes.withLock { $0[rank] = outcome }
            }.start()
        }
        group.wait()
        return outcomes.withLock { all in (0..<members).map { all[$0]! } }
    }
}
