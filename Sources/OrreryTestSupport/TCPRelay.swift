import CRuntimeShims
import Foundation
import Glibc
import Runtime
import Synchronization

/// A TCP relay on loopback that forwards every connection to a target and keeps a copy of
/// every byte in both directions: what a tap on the wire would capture, for tests that
/// check what an eavesdropper sees (spec strings in plaintext; nothing readable with CURVE).
///
/// Given a delay, every byte is held that long in each direction before it goes on: a
/// link with that much latency, for a peer behind it (this machine's kernel has no netem).
/// Given a network namespace (a `NetworkLab` host), the relay listens on that host's
/// loopback and dials the target from that host.
public final class TCPRelay: @unchecked Sendable {
    /// The port clients connect to (on 127.0.0.1, in the relay's namespace).
    public let port: UInt16
    private var listener: Int32 = -1
    private let targetAddress: String
    private let targetPort: UInt16
    private let delayMilliseconds: Int
    private let captured = Mutex<[UInt8]>([])
    private let stopping = Atomic<Bool>(false)
    private let sockets = Mutex<[Int32]>([])

    /// Listens on a free loopback port and relays to 127.0.0.1:`targetPort`.
    public convenience init(targetPort: UInt16) throws {
        try self.init(targetAddress: "127.0.0.1", targetPort: targetPort)
    }

    /// Listens on a free loopback port of `namespace` (this process's own when nil) and
    /// relays to `targetAddress`:`targetPort`, holding bytes `delayMilliseconds` each way.
    public init(targetAddress: String, targetPort: UInt16, namespace: String? = nil, delayMilliseconds: Int = 0) throws {
        self.targetAddress = targetAddress
        self.targetPort = targetPort
        self.delayMilliseconds = delayMilliseconds
        // Sockets belong to the namespace of the thread that makes them: one thread enters
        // the namespace, listens, and accepts and dials for the relay's whole life.
        let ready = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<(Int32, UInt16), TestClusterError>?>(nil)
        let thread = Thread {
            let made = Self.listen(namespace: namespace)
            outcome.withLock { $0 = made }
            ready.signal()
            guard case .success = made else { return }
        }
        thread.start()
        ready.wait()
        switch outcome.withLock({ $0 })! {
        case .failure(let error): throw error
        case .success(let (fd, port)):
            listener = fd
            self.port = port
        }
        // The accepting thread must be in the namespace too (it dials the target).
        Thread { [self] in
            if let namespace, Self.enter(namespace) != nil { return }
            acceptLoop()
        }.start()
    }

    deinit { stop() }

    /// `tcp://127.0.0.1:PORT`, for daemons to connect to instead of the target.
    public var endpoint: String { "tcp://127.0.0.1:\(port)" }

    /// Every byte relayed so far, both directions interleaved in arrival order.
    public var capture: [UInt8] { captured.withLock { $0 } }

    /// Whether `text` appears anywhere in the capture.
    public func captured(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        let haystack = capture
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start] == needle[0] && Array(haystack[start..<(start + needle.count)]) == needle
        }
    }

    /// Closes the listener and every relayed connection.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in sockets.withLock({ $0 }) {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    /// Enters `namespace` on this thread; the error, or nil.
    private static func enter(_ namespace: String) -> TestClusterError? {
        let fd = open("/var/run/netns/\(namespace)", O_RDONLY)
        guard fd >= 0 else { return TestClusterError("relay: no namespace \(namespace)") }
        defer { close(fd) }
        guard orrery_enter_network_namespace(fd) == 0 else {
            return TestClusterError("relay: cannot enter \(namespace): \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// A listening socket on a free loopback port (of `namespace`, entered first).
    private static func listen(namespace: String?) -> Result<(Int32, UInt16), TestClusterError> {
        if let namespace, let error = enter(namespace) { return .failure(error) }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { return .failure(TestClusterError("relay: socket failed")) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(listener, 64) == 0 else {
            close(listener)
            return .failure(TestClusterError("relay: cannot listen: \(String(cString: strerror(errno)))"))
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        return .success((listener, UInt16(bigEndian: address.sin_port)))
    }

    private func acceptLoop() {
        while !stopping.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.address(targetAddress, port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            sockets.withLock { $0 += [client, server] }
            Thread { [self] in pump(from: client, to: server) }.start()
            Thread { [self] in pump(from: server, to: client) }.start()
        }
    }

    /// Copies bytes one way until either side closes, recording them; with a delay, a
    /// second thread writes each piece once it has been held long enough.
    private func pump(from source: Int32, to destination: Int32) {
        let line = DelayLine(milliseconds: delayMilliseconds)
        if delayMilliseconds > 0 {
            Thread { while let piece = line.next() { guard Self.write(piece, to: destination) else { break } }; shutdown(destination, Int32(SHUT_WR)) }.start()
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            let piece = Array(buffer[0..<count])
            captured.withLock { $0 += piece }
            if delayMilliseconds > 0 {
                line.push(piece)
            } else if !Self.write(piece, to: destination) {
                break
            }
        }
        if delayMilliseconds > 0 { line.close() } else { shutdown(destination, Int32(SHUT_WR)) }
        shutdown(source, Int32(SHUT_RD))
    }

    /// Writes all of `bytes`; false when the other side is gone.
    private static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    private static func loopback(port: UInt16) -> sockaddr_in { address("127.0.0.1", port: port) }

    private static func address(_ host: String, port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }
}

/// Pieces of a byte stream, each released `milliseconds` after it was pushed, in order.
private final class DelayLine: @unchecked Sendable {
    private let delay: Int64
    private let condition = NSCondition()
    private var pieces: [(due: Int64, bytes: [UInt8])] = []
    private var closed = false

    init(milliseconds: Int) { delay = Int64(milliseconds) }

    func push(_ bytes: [UInt8]) {
        condition.withLock {
            pieces.append((MonotonicClock.milliseconds + delay, bytes))
            condition.signal()
        }
    }

    func close() {
        condition.withLock {
            closed = true
            condition.signal()
        }
    }

    /// The next piece once it is due; nil when closed and empty.
    func next() -> [UInt8]? {
        condition.lock()
        while pieces.isEmpty && !closed { condition.wait() }
        guard let first = pieces.first else {
            condition.unlock()
            return nil
        }
        condition.unlock()
        let wait = first.due - MonotonicClock.milliseconds
        if wait > 0 { usleep(UInt32(wait) * 1000) }
        return condition.withLock { pieces.removeFirst().bytes }
    }
}
