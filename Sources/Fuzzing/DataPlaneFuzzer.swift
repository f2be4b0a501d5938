import Foundation
import Messaging
import Runtime
import Wire

/// Floods a worker's data-plane endpoint as anyone on the network could: junk frames,
/// well-formed collective headers of rings that do not exist (with payloads up to the
/// frame limit), multipart messages, over several connections.
public final class DataPlaneFuzzer {
    private var mutator: FrameMutator
    private var sockets: [Socket] = []

    public init(endpoint: String, context: ZMQContext, seed: UInt64, connections: Int = 4) throws {
        mutator = FrameMutator(seed: seed)
        for _ in 0..<max(1, connections) {
            let socket = try Socket(context: context, kind: .push, policy: CoordinatorFuzzer.policy)
            try socket.connect(endpoint)
            sockets.append(socket)
        }
    }

    deinit { sockets.forEach { $0.close() } }

    public func run(count: Int, deadline: Int64 = .max) -> FuzzReport {
        var report = FuzzReport()
        let started = MonotonicClock.milliseconds
        while report.frames < count && MonotonicClock.milliseconds < deadline {
            let socket = sockets[mutator.integer(below: sockets.count)]
            do {
                try socket.send(nextMessage())
                report.frames += 1
            } catch {
                report.backpressure += 1
                usleep(200)
            }
        }
        report.seconds = Double(MonotonicClock.milliseconds - started) / 1000
        return report
    }

    private func nextMessage() -> [Frame] {
        switch mutator.integer(below: 10) {
        case 0..<4:
            return [mutator.randomBytes(mutator.integer(below: 256))]
        case 4..<8:
            var frame = Orrery_V1_CollectiveFrame()
            frame.ringTag = mutator.chance(10) ? 0 : mutator.extremeUInt64()
            frame.sender = mutator.extremeUInt32()
            frame.sequence = mutator.extremeUInt64()
            if mutator.chance(80) {
                var chunk = Orrery_V1_Chunk()
                chunk.step = mutator.extremeUInt32()
                chunk.offset = mutator.extremeUInt64()
                frame.chunk = chunk
            } else {
                var abort = Orrery_V1_Abort()
                abort.failedRank = mutator.extremeUInt32()
                abort.reason = mutator.hostileText()
                frame.abort = abort
            }
            let header = (try? frame.serializedBytes()) ?? []
            // Mostly small payloads, now and then one near the frame limit.
            let size = mutator.chance(1) ? Int(SocketPolicy.maximumChunkBytes) : mutator.integer(below: 4096)
            return [header, [UInt8](repeating: 0x3F, count: size)]
        case 8:
            return (0..<(3 + mutator.integer(below: 5))).map { _ in mutator.randomBytes(mutator.integer(below: 32)) }
        default:
            return [mutator.mutate(mutator.randomBytes(32))]
        }
    }
}
