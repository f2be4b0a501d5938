import Collectives
import Foundation
import Messaging
import Synchronization

/// N ring members as N threads of this process, each with its own data-plane endpoint on
/// loopback TCP: the same sockets, frames and code paths as separate workers.
final class RingHarness: @unchecked Sendable {
    let context: ZMQContext
    let endpoints: [DataPlaneEndpoint]
    /// Every member's CURVE key when the ring is encrypted.
    let curveKeys: [CurvePublicKey]
    private let zapHandler: ZAPHandler?
    private let keyDirectory: String?

    /// - Parameter curve: encrypt the data planes; each admits the keys of the members in
    ///   `admitted` (all by default).
    init(members: Int, curve: Bool = false, admitted: Set<Int>? = nil) throws {
        let context = try ZMQContext(ioThreads: 1)
        self.context = context
        guard curve else {
            endpoints = try (0..<members).map { _ in try DataPlaneEndpoint(context: context, bind: "tcp://127.0.0.1:*") }
            (curveKeys, zapHandler, keyDirectory) = ([], nil, nil)
            return
        }
        var template = Array("\(NSTemporaryDirectory())/orrery-ring-keys-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        let pairs = try (0..<members).map { _ in try CurveKeyPair.generate() }
        let listed = (0..<members).filter { admitted?.contains($0) ?? true }
        try listed.map { "\(pairs[$0].publicKey.z85) rank-\($0)\n" }.joined().write(toFile: "\(directory)/allow", atomically: true, encoding: .utf8)
        let allowList = try CurveAllowList(path: "\(directory)/allow")
        let handler = try ZAPHandler(context: context)
        endpoints = try pairs.map { pair in
            try DataPlaneEndpoint(
                context: context, bind: "tcp://127.0.0.1:*", curve: (CurveSecurity(keyPair: pair, allowList: allowList), handler))
        }
        (curveKeys, zapHandler, keyDirectory) = (pairs.map(\.publicKey), handler, directory)
    }

    deinit {
        endpoints.forEach { $0.close() }
        zapHandler?.stop()
        if let keyDirectory { try? FileManager.default.removeItem(atPath: keyDirectory) }
    }

    func topology(rank: Int, id: String, timeoutMilliseconds: Int = 10_000) -> RingTopology {
        RingTopology(
            rank: rank, endpoints: endpoints.map(\.endpoint), collectiveID: id, timeoutMilliseconds: timeoutMilliseconds,
            curveKeys: curveKeys)
    }

    /// Refused handshakes so far, when encrypted.
    var refusedHandshakes: Int { zapHandler?.counts.refused ?? 0 }

    /// Runs `body` on every rank at once (each on its own thread, with its own communicator)
    /// and returns each rank's outcome.
    func run<T: Sendable>(
        id: String = UUID().uuidString, timeoutMilliseconds: Int = 10_000, ranks: [Int]? = nil,
        configure: @escaping @Sendable (Communicator) -> Void = { _ in },
        _ body: @escaping @Sendable (Communicator) throws -> T
    ) -> [Result<T, any Error>] {
        let members = ranks ?? Array(endpoints.indices)
        let results = Mutex<[Int: Result<T, any Error>]>([:])
        let group = DispatchGroup()
        for rank in members {
            let topology = topology(rank: rank, id: id, timeoutMilliseconds: timeoutMilliseconds)
            let (plane, context) = (endpoints[rank], context)
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let outcome: Result<T, any Error>
                do {
                    let communicator = try Communicator(topology: topology, dataPlane: plane, context: context)
                    defer { communicator.close() }
                    configure(communicator)
                    outcome = .success(try body(communicator))
                } catch {
                    outcome = .failure(error)
                }
                results.withLock { $0[rank] = outcome }
            }
            thread.start()
        }
        group.wait()
        return results.withLock { all in members.map { all[$0]! } }
    }
}

/// Seeded inputs: rank r's buffer of `count` floats.
func input(rank: Int, count: Int, seed: UInt64 = 7) -> [Float] {
    var state = seed &+ UInt64(rank) &* 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 997
    }
}
