import Foundation
import Glibc
import Runtime
import Synchronization

/// Hosts without more machines: each host a Linux network namespace with one interface on
/// a private bridge, so that daemons placed on different hosts talk over real TCP between
/// different addresses and cannot use shared memory or ipc between them.
///
/// Layout: a "switch" namespace holds a bridge; host i is namespace `orrlab-PID-N-hI` with
/// `eth0` at 10.X.Y.(i+1)/24, cabled to the bridge by a veth pair. Every address lives
/// only in namespaces this lab created, so no traffic can reach any other network, and the
/// host's own namespace is not touched. Everything is removed by `tearDown` (also on
/// deinit); namespaces left by a test process that was killed are removed by the next lab.
/// Links can be shaped (`tc tbf`), made lossy (`nft` random drop) or cut (`ip link set
/// down`) and restored.
///
/// Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) and `ip`; `isAvailable` says whether
/// it can run here, and tests skip with that reason when it cannot.
public final class NetworkLab: @unchecked Sendable {
    /// One host: its namespace and address.
    public struct Host: Sendable {
        public let index: Int
        public let namespace: String
        public let address: String
    }

    public let name: String
    private let subnet: String
    private var switchNamespace: String { "\(name)-sw" }
    private let lock = NSLock()
    private var hosts: [Host] = []
    private var tornDown = false
    private static let prefix = "orrlab-"
    private static let serial = Mutex(0)

    /// Why the lab cannot run here, or nil when it can.
    public static let unavailableReason: String? = {
        guard getuid() == 0 else { return "network namespaces need root" }
        guard FileManager.default.isExecutableFile(atPath: ipTool) else { return "no \(ipTool)" }
        let probe = "\(prefix)probe-\(getpid())"
        guard (try? run(ipTool, ["netns", "add", probe])) != nil else { return "ip netns add failed (no CAP_SYS_ADMIN?)" }
        _ = try? run(ipTool, ["netns", "del", probe])
        return nil
    }()

    public static var isAvailable: Bool { unavailableReason == nil }

    /// A lab when `ORRERY_TEST_NETNS=1` asks every test cluster to spread its daemons over
    /// namespaces (and the lab can run here), else nil.
    public static func fromEnvironment() throws -> NetworkLab? {
        guard ProcessInfo.processInfo.environment["ORRERY_TEST_NETNS"] == "1" else { return nil }
        if let unavailableReason { throw TestClusterError("ORRERY_TEST_NETNS=1, but \(unavailableReason)") }
        return try NetworkLab()
    }

    static let ipTool = "/usr/sbin/ip"
    static let tcTool = "/usr/sbin/tc"
    static let nftTool = "/usr/sbin/nft"

    /// Makes the switch namespace and its bridge; hosts are added with `addHost`.
    public init() throws {
        let number = Self.serial.withLock { value -> Int in
            value += 1
            return value
        }
        name = "\(Self.prefix)\(getpid())-\(number)"
        // 10.X.Y.0/24 with X, Y from the pid and lab number: distinct labs of concurrent
        // tests never share a subnet (and nothing outside the lab's namespaces routes it).
        subnet = "10.\(200 + Int(getpid()) % 50).\((Int(getpid()) / 50 * 7 + number) % 256)"
        Self.removeStaleLabs()
        do {
            try Self.run(Self.ipTool, ["netns", "add", switchNamespace])
            try exec(switchNamespace, [Self.ipTool, "link", "set", "lo", "up"])
            try exec(switchNamespace, [Self.ipTool, "link", "add", "br0", "type", "bridge"])
            try exec(switchNamespace, [Self.ipTool, "link", "set", "br0", "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    /// Adds a host and returns it; its interface is up and reaches every other host.
    @discardableResult
    public func addHost() throws -> Host {
        let index = lock.withLock { hosts.count }
        let host = Host(index: index, namespace: "\(name)-h\(index)", address: "\(subnet).\(index + 1)")
        let port = "p\(index)"
        try Self.run(Self.ipTool, ["netns", "add", host.namespace])
        lock.withLock { hosts.append(host) }
        try exec(host.namespace, [Self.ipTool, "link", "set", "lo", "up"])
        try exec(host.namespace, [Self.ipTool, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", switchNamespace])
        try exec(host.namespace, [Self.ipTool, "addr", "add", "\(host.address)/24", "dev", "eth0"])
        try exec(host.namespace, [Self.ipTool, "link", "set", "eth0", "up"])
        try exec(switchNamespace, [Self.ipTool, "link", "set", port, "master", "br0"])
        try exec(switchNamespace, [Self.ipTool, "link", "set", port, "up"])
        return host
    }

    /// Host `index`, adding hosts up to it as needed.
    public func host(_ index: Int) throws -> Host {
        while lock.withLock({ hosts.count }) <= index { try addHost() }
        return lock.withLock { hosts[index] }
    }

    /// The arguments that run `executable arguments` on `host` (through `ip netns exec`,
    /// which execs it: the pid is the program's own).
    public func command(on host: Host, _ executable: String, _ arguments: [String]) -> (String, [String]) {
        (Self.ipTool, ["netns", "exec", host.namespace, executable] + arguments)
    }

    /// Cuts (`up: false`) or restores host `index`'s cable at the switch: both directions
    /// stop at once, as when a switch port or a cable fails.
    public func setLink(_ index: Int, up: Bool) throws {
        try exec(switchNamespace, [Self.ipTool, "link", "set", "p\(index)", up ? "up" : "down"])
    }

    /// Shapes host `index`'s link to `rate` (tc syntax, e.g. "1gbit") in both directions with
    /// a token bucket (`tbf`): the host's egress at its interface, its ingress at the
    /// switch port.
    public func shape(_ index: Int, rate: String, burst: String = "256kb", latency: String = "20ms") throws {
        let host = try host(index)
        for (namespace, device) in [(host.namespace, "eth0"), (switchNamespace, "p\(index)")] {
            try exec(namespace, [Self.tcTool, "qdisc", "replace", "dev", device, "root", "tbf", "rate", rate, "burst", burst, "latency", latency])
        }
    }

    /// Drops `percent` of the packets host `index` sends and receives, at random (nftables
    /// `numgen random`: this kernel has no netem).
    public func drop(_ index: Int, percent: Int) throws {
        let host = try host(index)
        let rules = """
            table inet orrlab {
              chain input { type filter hook input priority 0; policy accept; meta l4proto tcp numgen random mod 100 < \(percent) drop; }
              chain output { type filter hook output priority 0; policy accept; meta l4proto tcp numgen random mod 100 < \(percent) drop; }
            }
            """
        let file = "\(NSTemporaryDirectory())/\(host.namespace).nft"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        try exec(host.namespace, [Self.nftTool, "-f", file])
    }

    /// Removes every namespace of this lab (their interfaces go with them). Idempotent.
    public func tearDown() {
        let all: [String] = lock.withLock {
            guard !tornDown else { return [] }
            tornDown = true
            return hosts.map(\.namespace) + [switchNamespace]
        }
        for namespace in all { _ = try? Self.run(Self.ipTool, ["netns", "del", namespace]) }
    }

    // MARK: Running tools

    private func exec(_ namespace: String, _ command: [String]) throws {
        try Self.run(Self.ipTool, ["netns", "exec", namespace] + command)
    }

    /// Runs a tool to completion; throws with its output when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = "\(NSTemporaryDirectory())/orrlab-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(output) }
        let process = try ChildProcess(executable: executable, arguments: arguments, standardOutput: .file(output), standardError: .file(output))
        let status = process.wait(timeoutMilliseconds: 20_000) ?? process.terminate()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestClusterError("\(([executable] + arguments).joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }

    /// Deletes namespaces of labs whose test process is gone (killed before its tearDown).
    private static func removeStaleLabs() {
        guard let listing = try? run(ipTool, ["netns", "list"]) else { return }
        for line in listing.split(separator: "\n") {
            let namespace = String(line.split(separator: " ").first ?? "")
            guard namespace.hasPrefix(prefix), let pid = Int32(namespace.dropFirst(prefix.count).split(separator: "-").first ?? ""),
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            _ = try? run(ipTool, ["netns", "del", namespace])
        }
    }
}
