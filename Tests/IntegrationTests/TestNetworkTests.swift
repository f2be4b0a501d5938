import Foundation
import Glibc
import Messaging
import OrreryTestSupport
import Runtime
import Testing

/// The test network's own parts, checked so that tests built on them can be believed.
@Suite("The relay that captures and delays")
struct TestNetworkTests {
    /// Milliseconds from connecting through `relay` until the first byte arrives (a ZeroMQ
    /// server sends its greeting at once on accept).
    static func firstByteMilliseconds(through relay: TCPRelay) throws -> Int64 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = relay.port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let started = MonotonicClock.milliseconds
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        var byte: UInt8 = 0
        try #require(read(fd, &byte, 1) == 1)
        return MonotonicClock.milliseconds - started
    }

    @Test("bytes are held for the delay each way, and every byte is captured")
    func delayIsReal() throws {
        let context = try ZMQContext()
        let router = try Socket(context: context, kind: .router, policy: .control)
        defer { router.close() }
        try router.bind("tcp://127.0.0.1:*")
        let port = try #require(UInt16(try router.lastEndpoint().split(separator: ":").last ?? ""))
        let slow = try TCPRelay(targetAddress: "127.0.0.1", targetPort: port, delayMilliseconds: 60)
        let fast = try TCPRelay(targetAddress: "127.0.0.1", targetPort: port)
        defer {
            slow.stop()
            fast.stop()
        }
        #expect(try Self.firstByteMilliseconds(through: slow) >= 60)
        #expect(try Self.firstByteMilliseconds(through: fast) < 60)
        #expect(eventually(timeoutMilliseconds: 2_000) { slow.capture.first == 0xFF }, "ZMTP's greeting starts with 0xFF")
    }
}
