import Foundation
import Messaging
import Runtime
import Wire

/// Fuzzes a running coordinator over real sockets, as a crowd of workers or of clients
/// would reach it: many connections, identities that come and go (a registration flood),
/// some connections that read what they are sent and some that never do (so that replies
/// the coordinator queues for them show up in its memory).
public final class CoordinatorFuzzer {
    public enum Role: String, CaseIterable, Sendable {
        case worker
        case client
    }

    private let endpoint: String
    private let context: ZMQContext
    private let role: Role
    private var frames: HostileFrames
    private var connections: [(socket: Socket, id: String, reads: Bool)] = []
    private var nextIdentity = 0
    private let runTag = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    /// - Parameters:
    ///   - connections: sockets kept open at once; one in four never reads its replies.
    ///   - specCorpus: job specs to mutate for the client role.
    public init(
        endpoint: String, role: Role, context: ZMQContext, seed: UInt64, connections: Int = 16, specCorpus: [String] = []
    ) throws {
        self.endpoint = endpoint
        self.context = context
        self.role = role
        self.frames = HostileFrames(seed: seed, specCorpus: specCorpus)
        for index in 0..<max(1, connections) { connections_append(reads: index % 4 != 3) }
    }

    deinit { connections.forEach { $0.socket.close() } }

    private func connections_append(reads: Bool) {
        nextIdentity += 1
        let id = "fuzz-\(role.rawValue)-\(runTag)-\(nextIdentity)"
        guard let socket = try? Socket(context: context, kind: .dealer, policy: Self.policy) else { return }
        try? socket.setRoutingID(id)
        try? socket.connect(endpoint)
        connections.append((socket, id, reads))
    }

    /// The fuzzer's own sockets: no linger (a run ends at once), a bounded queue, and no
    /// size limit on what it reads (it must see whatever the target answers).
    static let policy = SocketPolicy(lingerMilliseconds: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000, maximumMessageBytes: -1)

    /// Sends `count` hostile messages, or fewer if `deadline` (monotonic milliseconds) passes.
    public func run(count: Int, deadline: Int64 = .max) -> FuzzReport {
        var report = FuzzReport()
        let started = MonotonicClock.milliseconds
        while report.frames < count && MonotonicClock.milliseconds < deadline {
            let index = frames.messages.mutator.integer(below: connections.count)
            // Identity churn: now and then a connection is replaced by a new identity.
            if frames.messages.mutator.chance(1) && frames.messages.mutator.chance(50) {
                let old = connections.remove(at: index)
                old.socket.close()
                connections_append(reads: old.reads)
                report.identities += 1
                continue
            }
            let connection = connections[index]
            let message: [Frame]
            switch role {
            case .worker: message = frames.next { $0.fromWorker(workerID: connection.id) }
            case .client: message = frames.next { $0.fromClient() }
            }
            do {
                try connection.socket.send(message)
                report.frames += 1
            } catch {
                report.backpressure += 1
                usleep(200)
            }
            if report.frames % 64 == 0 { report.replies += readReplies() }
        }
        report.replies += readReplies()
        report.seconds = Double(MonotonicClock.milliseconds - started) / 1000
        report.identities += connections.count
        return report
    }

    private func readReplies() -> Int {
        var count = 0
        for connection in connections where connection.reads {
            while count < 100_000, (try? connection.socket.receive(wait: false)) ?? nil != nil { count += 1 }
        }
        return count
    }
}
