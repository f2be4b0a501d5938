import ArgumentParser
import Collectives
import Foundation
import Messaging
import Runtime
import Tensor

extension DataPath: ExpressibleByArgument {}

/// `orrery bench allreduce`: ring all-reduce between N worker processes on this machine,
/// reported as nccl-tests does — size, time, algorithm bandwidth (size / time) and bus
/// bandwidth (algbw × 2(N−1)/N, the rate each link actually carried).
///
/// The command starts N copies of itself as ranks (each a separate process with its own
/// data-plane socket, as workers are), which run the sizes in the same order; each size
/// is timed over many calls after a warm-up, and the slowest rank's median is reported.
struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce", abstract: "Ring all-reduce time and bus bandwidth between worker processes, 4 KB to 64 MB.")

    @Option(name: .long, help: "Ranks (processes).")
    var workers = 2

    @Option(name: .long, help: "ipc (unix sockets, what co-located workers use) or tcp (loopback).")
    var transport = "ipc"

    @Option(name: .long, parsing: .upToNextOption, help: "Buffer sizes in bytes (default: 4 KB to 64 MB, ×4).")
    var sizes: [Int] = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]

    @Option(name: .long, help: "Seconds spent timing each size (at least 5 calls).")
    var seconds = 1.0

    @Option(name: .long, help: "Floats per chunk of the pipelined ring.")
    var chunkElements = 256 * 1024

    @Option(name: .long, help: "automatic (shared memory between ranks of one host) or ring (ZeroMQ frames only).")
    var dataPath: DataPath = .automatic

    @Option(name: .long, help: "Floats per rank per staging block of the shared-memory path (default: the communicator's choice).")
    var blockElements: Int?

    @Option(name: .long, help: "libzmq I/O threads per rank.")
    var ioThreads = 1

    @Flag(name: .long, help: "Encrypt the ring with CURVE (a key pair per rank, each admitting the others).")
    var curve = false

    @Option(name: .long, help: .hidden) var rank: Int?
    /// Directory holding rank-R.key / rank-R.pub for every rank and ranks.allow (with --rank).
    @Option(name: .long, help: .hidden) var curveKeys: String?
    @Option(name: .long, help: .hidden) var endpoints: String?
    @Option(name: .long, help: .hidden) var resultFile: String?

    @OptionGroup var output: OutputOptions

    struct Row: Codable {
        let bytes: Int
        let floats: Int
        let calls: Int
        let medianMicros: Double
        var algorithmGBps: Double
        var busGBps: Double
        var sharedMemory = false
    }

    func validate() throws {
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1 to 16") }
        guard (1...16).contains(ioThreads) else { throw ValidationError("--io-threads must be 1 to 16") }
        guard ["ipc", "tcp"].contains(transport) else { throw ValidationError("--transport must be ipc or tcp") }
        guard (blockElements ?? 16) >= 16 else { throw ValidationError("--block-elements must be at least 16") }
        guard sizes.allSatisfy({ $0 >= 4 }) else { throw ValidationError("--sizes must be at least 4 bytes each") }
    }

    func run() throws {
        if let rank, let endpoints, let resultFile {
            return try runRank(rank, endpoints: endpoints.split(separator: ",").map(String.init), resultFile: resultFile)
        }
        LoggingSetup.bootstrap(level: .warning)
        let directory = LocalCluster.makeLogDirectory()
        let basePort = Int.random(in: 20_000...50_000)
        let endpoints = (0..<workers).map { rank in
            transport == "ipc" ? "ipc://\(directory)/rank-\(rank).sock" : "tcp://127.0.0.1:\(basePort + rank)"
        }
        var shared = [
            "--seconds", "\(seconds)", "--chunk-elements", "\(chunkElements)", "--data-path", dataPath.rawValue,
            "--io-threads", "\(ioThreads)",
        ]
        if curve { shared += ["--curve-keys", try Self.makeRankKeys(workers, in: directory)] }
        if let blockElements { shared += ["--block-elements", "\(blockElements)"] }
        shared += ["--sizes"] + sizes.map(String.init)
        let children = try (0..<workers).map { rank in
            try ChildProcess(
                executable: ChildProcess.currentExecutable,
                arguments: [
                    "bench", "allreduce", "--rank", "\(rank)", "--endpoints", endpoints.joined(separator: ","),
                    "--result-file", "\(directory)/rank-\(rank).json",
                ] + shared,
                environment: ["OPENBLAS_NUM_THREADS": "1", "ORRERY_THREADS": "1"],
                standardError: .file("\(directory)/rank-\(rank).log"))
        }
        let statuses = children.map { $0.wait(timeoutMilliseconds: 600_000) ?? $0.terminate() }
        guard statuses.allSatisfy({ $0 == 0 }) else {
            throw CommandFailure.exit("a rank failed (exit statuses \(statuses)); logs in \(directory)", code: CommandFailure.clusterError)
        }
        let perRank = try (0..<workers).map { rank in
            try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/rank-\(rank).json")))
        }
        // The call is as slow as its slowest rank.
        let rows = perRank[0].indices.map { index in perRank.map { $0[index] }.max { $0.medianMicros < $1.medianMicros }! }
        if output.json { return try BenchmarkOutput.printJSON(rows) }
        let path = rows.first?.sharedMemory == true ? "shared memory, control over \(transport)" : transport
        print("# orrery all-reduce (sum, float32): \(workers) ranks, data over \(path), slowest rank's median")
        let headings = [("size (B)", 12), ("count", 12), ("calls", 8), ("time (us)", 12), ("algbw GB/s", 10), ("busbw GB/s", 10)]
        print(headings.map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: " "))
        for row in rows {
            print(String(format: "%12d %12d %8d %12.1f %10.3f %10.3f", row.bytes, row.floats, row.calls, row.medianMicros, row.algorithmGBps, row.busGBps))
        }
    }

    /// Writes a key pair per rank and an allow-list of them all into `directory/keys`.
    static func makeRankKeys(_ ranks: Int, in directory: String) throws -> String {
        let keys = "\(directory)/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        var allow = ""
        for rank in 0..<ranks {
            let pair = try CurveKeyPair.generate()
            try CurveKeyFile.write(pair, name: "rank-\(rank)", directory: keys)
            allow += "\(pair.publicKey.z85) rank-\(rank)\n"
        }
        try allow.write(toFile: "\(keys)/ranks.allow", atomically: true, encoding: .utf8)
        return keys
    }

    /// One rank: binds its endpoint, joins the ring, times every size, writes its rows.
    private func runRank(_ rank: Int, endpoints: [String], resultFile: String) throws {
        LoggingSetup.bootstrap(level: .warning)
        Storage.tuneAllocator()  // as in a worker, whose tensors apply it before any all-reduce
        let context = try ZMQContext(ioThreads: Int32(clamping: ioThreads))
        var curve: (CurveSecurity, ZAPHandler)?
        var keys: [CurvePublicKey] = []
        if let curveKeys {
            let security = CurveSecurity(
                keyPair: try CurveKeyFile.readKeyPair(path: "\(curveKeys)/rank-\(rank).key"),
                allowList: try CurveAllowList(path: "\(curveKeys)/ranks.allow"))
            curve = (security, try ZAPHandler(context: context))
            keys = try endpoints.indices.map { try CurveKeyFile.readPublicKey("\(curveKeys)/rank-\($0).pub") }
        }
        let plane = try DataPlaneEndpoint(context: context, bind: endpoints[rank], curve: curve)
        defer { plane.close() }
        let topology = RingTopology(
            rank: rank, endpoints: endpoints, collectiveID: "bench", timeoutMilliseconds: 60_000, curveKeys: keys)
        let communicator = try Communicator(topology: topology, dataPlane: plane, context: context)
        defer { communicator.close() }
        communicator.chunkElements = chunkElements
        communicator.dataPath = dataPath
        communicator.sharedMemoryBlockElements = blockElements
        let n = Double(endpoints.count)
        var rows: [Row] = []
        for bytes in sizes {
            let floats = bytes / 4
            var buffer = [Float](repeating: Float(rank + 1), count: floats)
            try communicator.barrier()
            for _ in 0..<3 { try communicator.allReduce(&buffer) }
            // Every rank runs the same number of calls: rank 0 decides from its warm-up and tells the others.
            var calls = [Float(0)]
            if rank == 0 {
                let started = MonotonicClock.microseconds
                try communicator.allReduce(&buffer)
                let once = max(1, MonotonicClock.microseconds - started)
                calls[0] = Float(min(10_000, max(5, Int(seconds * 1e6) / Int(once))))
            } else {
                try communicator.allReduce(&buffer)
            }
            try communicator.broadcast(&calls, root: 0)
            var times: [Double] = []
            for _ in 0..<Int(calls[0]) {
                let started = MonotonicClock.nanoseconds
                try communicator.allReduce(&buffer)
                times.append(Double(MonotonicClock.nanoseconds - started) / 1_000)
            }
            let median = BenchmarkOutput.median(times)
            let algorithm = Double(bytes) / (median * 1e-6) / 1e9
            rows.append(Row(
                bytes: bytes, floats: floats, calls: times.count, medianMicros: median, algorithmGBps: algorithm,
                busGBps: algorithm * 2 * (n - 1) / n, sharedMemory: communicator.usesSharedMemory))
        }
        try communicator.barrier()
        try JSONEncoder().encode(rows).write(to: URL(fileURLWithPath: resultFile))
    }
}
