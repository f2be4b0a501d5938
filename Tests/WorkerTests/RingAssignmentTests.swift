import Collectives
import Messaging
import Testing
import Wire
import Workloads

@testable import Worker

/// A ring assignment arrives from the network: a bad one fails the task with a message
/// that says what is wrong, instead of the member quietly training alone.
@Suite("Ring assignments from leases")
struct RingAssignmentTests {
    func assignment(rank: UInt32, worldSize: UInt32, endpoints: [String]) -> Orrery_V1_RingAssignment {
        var ring = Orrery_V1_RingAssignment()
        ring.rank = rank
        ring.worldSize = worldSize
        ring.collectiveID = "t#1"
        ring.collectiveTimeoutMs = 1_000
        ring.peers = endpoints.enumerated().map { index, endpoint in
            var peer = Orrery_V1_RingPeer()
            peer.workerID = "w\(index)"
            peer.endpoint = endpoint
            return peer
        }
        return ring
    }

    @Test("a worker without a data plane refuses gang tasks, retryably")
    func noDataPlane() {
        let pool = TaskPool(threads: 1, executors: [:], resultsEndpoint: "inproc://unused", dataPlane: nil)
        let error = #expect(throws: TaskError.self) {
            try pool.gang(assignment(rank: 0, worldSize: 2, endpoints: ["tcp://a:1", "tcp://b:1"]))
        }
        #expect(error?.retryable == true)
        #expect(error?.message.contains("no data plane") == true)
    }

    @Test("malformed assignments are named and not retried", arguments: [
        (UInt32(2), UInt32(2), ["tcp://a:1", "tcp://b:1"]),  // rank outside the ring
        (UInt32(0), UInt32(3), ["tcp://a:1", "tcp://b:1"]),  // fewer peers than the world size
        (UInt32(0), UInt32(2), ["tcp://a:1", ""]),  // a peer without an endpoint
    ])
    func malformed(rank: UInt32, worldSize: UInt32, endpoints: [String]) throws {
        let context = try ZMQContext()
        let plane = try DataPlaneEndpoint(context: context, bind: "tcp://127.0.0.1:*")
        defer { plane.close() }
        // The pool's thread reports to the service over inproc; bind that end so it can exit.
        let results = try Socket(context: context, kind: .pull, policy: .inproc)
        try results.bind("inproc://ring-assignment-tests")
        let pool = TaskPool(threads: 1, executors: [:], resultsEndpoint: "inproc://ring-assignment-tests", dataPlane: plane)
        pool.start(context: context)
        defer {
            pool.stop()
            _ = try? results.receive(timeoutMilliseconds: 2_000)  // the thread's exit frame
            results.close()
        }
        let error = #expect(throws: TaskError.self) {
            try pool.gang(assignment(rank: rank, worldSize: worldSize, endpoints: endpoints))
        }
        #expect(error?.retryable == false)
        #expect(error?.message.contains("malformed ring assignment: rank \(rank) of world size \(worldSize)") == true, "\(String(describing: error))")
    }
}
