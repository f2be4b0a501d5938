import Foundation
import Messaging
import Testing

@Suite("Socket round trips")
struct SocketRoundTripTests {
    let context = try! ZMQContext()

    static func endpoints() -> [String] {
        let ipcPath = "\(NSTemporaryDirectory())/orrery-messaging-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        return ["inproc://round-trip-\(UInt32.random(in: 0...UInt32.max))", "ipc://\(ipcPath)", "tcp://127.0.0.1:*"]
    }

    @Test("DEALER → ROUTER → DEALER carries multipart frames intact", arguments: endpoints())
    func roundTrip(endpoint: String) throws {
        let router = try Socket(context: context, kind: .router, policy: .control)
        try router.setRouterMandatory(true)
        try router.bind(endpoint)
        let bound = try router.lastEndpoint()
        let dealer = try Socket(context: context, kind: .dealer, policy: .control)
        try dealer.setRoutingID("peer-1")
        try dealer.connect(bound)

        let payload: Frame = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try dealer.send([Array("hello".utf8), [], payload], wait: true)
        let received = try #require(try router.receive(timeoutMilliseconds: 5_000))
        #expect(received.count == 4)
        #expect(received[0] == Array("peer-1".utf8))
        #expect(received[1] == Array("hello".utf8))
        #expect(received[2].isEmpty)
        #expect(received[3] == payload)

        try router.send([received[0], Array("reply".utf8)])
        let reply = try #require(try dealer.receive(timeoutMilliseconds: 5_000))
        #expect(reply == [Array("reply".utf8)])
    }

    @Test("receive with a timeout returns nil when nothing arrives")
    func receiveTimesOut() throws {
        let pull = try Socket(context: context, kind: .pull, policy: .inproc)
        try pull.bind("inproc://silent-\(UInt32.random(in: 0...UInt32.max))")
        #expect(try pull.receive(timeoutMilliseconds: 30) == nil)
        #expect(try pull.receive(wait: false) == nil)
    }

    @Test("ROUTER_MANDATORY turns a send to an unknown peer into EHOSTUNREACH")
    func routerMandatory() throws {
        let router = try Socket(context: context, kind: .router, policy: .control)
        try router.setRouterMandatory(true)
        try router.bind("inproc://mandatory-\(UInt32.random(in: 0...UInt32.max))")
        let error = #expect(throws: ZMQError.self) { try router.send([Array("nobody".utf8), [1]]) }
        #expect(error?.isHostUnreachable == true)
        #expect(error?.description.contains("zmq_send") == true)
    }

    @Test("a bad endpoint fails with libzmq's message and the call that failed")
    func badEndpoint() throws {
        let socket = try Socket(context: context, kind: .dealer, policy: .client)
        let error = #expect(throws: ZMQError.self) { try socket.bind("carrier-pigeon://nowhere") }
        #expect(error?.operation == "zmq_bind(carrier-pigeon://nowhere)")
        #expect(error?.message.isEmpty == false)
    }

    @Test("a full queue is reported as would-block, never a silent drop")
    func highWaterMark() throws {
        let policy = SocketPolicy(lingerMilliseconds: 0, sendHighWaterMark: 4, receiveHighWaterMark: 4, maximumMessageBytes: -1)
        let push = try Socket(context: context, kind: .push, policy: policy)
        let endpoint = "inproc://hwm-\(UInt32.random(in: 0...UInt32.max))"
        try push.bind(endpoint)
        let pull = try Socket(context: context, kind: .pull, policy: policy)
        try pull.connect(endpoint)
        var sent = 0
        var blocked: ZMQError?
        for _ in 0..<100 {
            do {
                try push.send([[1, 2, 3]])
                sent += 1
            } catch {
                blocked = error
                break
            }
        }
        #expect(sent < 100)
        #expect(blocked?.isWouldBlock == true)
        var received = 0
        while try pull.receive(wait: false) != nil { received += 1 }
        #expect(received == sent)
    }

    @Test("a frame over the receiver's maximum size never arrives; its sender is cut off, others are not")
    func maximumMessageSize() throws {
        let small = SocketPolicy(lingerMilliseconds: 0, sendHighWaterMark: 100, receiveHighWaterMark: 100, maximumMessageBytes: 1024)
        let pull = try Socket(context: context, kind: .pull, policy: small)
        try pull.bind("tcp://127.0.0.1:*")
        let endpoint = try pull.lastEndpoint()
        let flooder = try Socket(context: context, kind: .push, policy: .dataPlaneSend)
        try flooder.connect(endpoint)
        try flooder.send([[UInt8](repeating: 7, count: 4096)], wait: true)
        try flooder.send([[1]], wait: true)  // same connection: dropped with it
        #expect(try pull.receive(timeoutMilliseconds: 500) == nil)
        let honest = try Socket(context: context, kind: .push, policy: .dataPlaneSend)
        try honest.connect(endpoint)
        try honest.send([[UInt8](repeating: 1, count: 1024)], wait: true)
        let frames = try #require(try pull.receive(timeoutMilliseconds: 3_000))
        #expect(frames == [[UInt8](repeating: 1, count: 1024)])
    }

    @Test("the poller reports exactly the sockets that are readable")
    func poller() throws {
        let endpointA = "inproc://poll-a-\(UInt32.random(in: 0...UInt32.max))"
        let endpointB = "inproc://poll-b-\(UInt32.random(in: 0...UInt32.max))"
        let a = try Socket(context: context, kind: .pull, policy: .inproc)
        let b = try Socket(context: context, kind: .pull, policy: .inproc)
        try a.bind(endpointA)
        try b.bind(endpointB)
        let pushB = try Socket(context: context, kind: .push, policy: .inproc)
        try pushB.connect(endpointB)
        let poller = Poller([a, b])
        #expect(try poller.poll(timeoutMilliseconds: 0).isEmpty)
        try pushB.send([[9]])
        #expect(try poller.poll(timeoutMilliseconds: 1_000) == [1])
    }
}
