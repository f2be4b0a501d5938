import Foundation
import Messaging
import Testing

@Suite("CURVE keys, allow-lists and the ZAP handler")
struct CurveTests {
    static func temporaryDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/orrery-curve-XXXXXX".utf8CString)
        return String(cString: try #require(mkdtemp(&template)))
    }

    @Test("key files: the secret file is created 0600, both read back to the same pair, Z85 round-trips")
    func keyFilesRoundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pair = try CurveKeyPair.generate()
        try CurveKeyFile.write(pair, name: "w1", directory: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/w1.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try CurveKeyFile.readKeyPair(path: "\(directory)/w1.key") == pair)
        #expect(try CurveKeyFile.readPublicKey("\(directory)/w1.pub") == pair.publicKey)
        #expect(try CurveKeyFile.readPublicKey(pair.publicKey.z85) == pair.publicKey)
        #expect(try CurvePublicKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(pair.publicKey.fingerprint.hasPrefix("SHA256:") && pair.publicKey.fingerprint.count == 23)
        // A second write refuses to replace the pair.
        #expect(throws: CurveError.self) { try CurveKeyFile.write(try CurveKeyPair.generate(), name: "w1", directory: directory) }
        #expect(try CurveKeyFile.readKeyPair(path: "\(directory)/w1.key") == pair)
    }

    @Test("a secret key file open to others, a missing file, a garbled key and a mismatched pair are refused by name")
    func badKeyFilesAreNamed() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pair = try CurveKeyPair.generate()
        try CurveKeyFile.write(pair, name: "k", directory: directory)
        let path = "\(directory)/k.key"
        chmod(path, 0o640)
        #expect(throws: CurveError.badFile(path: path, problem: "the secret key file is open to others (mode 640); chmod 600 it")) {
            try CurveKeyFile.readKeyPair(path: path)
        }
        #expect(throws: CurveError.self) { try CurveKeyFile.readKeyPair(path: "\(directory)/missing.key") }
        #expect(throws: CurveError.malformedKey("a Z85 key is 40 characters, got 5")) { try CurvePublicKey(z85: "short") }
        #expect(throws: CurveError.self) { try CurvePublicKey(z85: String(repeating: "\"", count: 40)) }
        #expect(throws: CurveError.self) { try CurvePublicKey(bytes: [1, 2, 3]) }
        // A file whose public key is not its secret's half.
        let other = try CurveKeyPair.generate()
        let forged = "\(directory)/forged.key"
        FileManager.default.createFile(
            atPath: forged, contents: Data("public-key = \(other.publicKey.z85)\nsecret-key = \(pair.secretZ85)\n".utf8),
            attributes: [.posixPermissions: 0o600])
        #expect(throws: CurveError.badFile(path: forged, problem: "its public-key is not the public half of its secret-key")) {
            try CurveKeyFile.readKeyPair(path: forged)
        }
    }

    @Test("allow-lists: names beside keys, comments, a bad line named by number, and a failed reload keeps the old list")
    func allowLists() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (a, b) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let path = "\(directory)/allow"
        try "# workers\n\(a.publicKey.z85) worker one\n\n".write(toFile: path, atomically: true, encoding: .utf8)
        let list = try CurveAllowList(path: path)
        #expect(list.name(of: a.publicKey) == "worker one")
        #expect(!list.admits(b.publicKey))
        try "\(a.publicKey.z85)\nnot-a-key\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CurveError.badFile(path: path, problem: "line 2: a Z85 key is 40 characters, got 9")) { try list.reload() }
        #expect(list.admits(a.publicKey), "a failed reload keeps the previous list")
        try "\(b.publicKey.z85) b\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try list.reload() == 1)
        #expect(list.admits(b.publicKey) && !list.admits(a.publicKey))
    }

    /// A CURVE ROUTER in `context` admitting what `allowList` lists, and its endpoint.
    static func server(_ context: ZMQContext, pair: CurveKeyPair, handler: ZAPHandler, allowList: CurveAllowList) throws -> (Socket, String) {
        let router = try Socket(context: context, kind: .router, policy: .control)
        try CurveSecurity(keyPair: pair, allowList: allowList).serve(router, domain: CurveSecurity.Domain.control, handler: handler)
        try router.bind("tcp://127.0.0.1:*")
        return (router, try router.lastEndpoint())
    }

    @Test("ZAP: a listed client gets through, an unlisted one and a plaintext one get nothing, and a reload admits a new key")
    func zapAdmitsOnlyListedKeys() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serverContext = try ZMQContext(), clientContext = try ZMQContext()
        let handler = try ZAPHandler(context: serverContext)
        defer { handler.stop() }
        let (serverPair, listed, unlisted) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let path = "\(directory)/allow"
        try "\(listed.publicKey.z85) listed\n".write(toFile: path, atomically: true, encoding: .utf8)
        let allowList = try CurveAllowList(path: path)
        let (router, endpoint) = try Self.server(serverContext, pair: serverPair, handler: handler, allowList: allowList)
        defer { router.close() }

        func client(_ pair: CurveKeyPair?) throws -> (Socket, SocketMonitor) {
            let dealer = try Socket(context: clientContext, kind: .dealer, policy: .client)
            if let pair { try dealer.makeCurveClient(pair, server: serverPair.publicKey) }
            let monitor = try SocketMonitor(watching: dealer, context: clientContext, events: .handshakes)
            try dealer.connect(endpoint)
            return (dealer, monitor)
        }
        let (good, goodMonitor) = try client(listed)
        let (bad, badMonitor) = try client(unlisted)
        let (plain, plainMonitor) = try client(nil)
        defer {
            for (socket, monitor) in [(good, goodMonitor), (bad, badMonitor), (plain, plainMonitor)] {
                monitor.close()
                socket.close()
            }
        }
        try good.send([Array("from listed".utf8)], wait: true)
        try bad.send([Array("from unlisted".utf8)])
        try plain.send([Array("from plaintext".utf8)])
        let received = try #require(try router.receive(timeoutMilliseconds: 5_000))
        #expect(received.last == Array("from listed".utf8))
        #expect(try router.receive(timeoutMilliseconds: 1_000) == nil, "only the listed client's message arrives")
        #expect(handler.counts.admitted == 1)
        #expect(handler.counts.refused >= 1)

        func sawRefusal(_ monitor: SocketMonitor) throws -> Bool {
            while let event = try monitor.next() { if case .handshakeFailed(_, let refused) = event, refused { return true } }
            return false
        }
        #expect(try sawRefusal(badMonitor), "the unlisted client is told its key was refused")

        // Listed now, and read again: its next connection gets through. (libzmq ends a
        // session its server refused instead of reconnecting it; a worker opens a new
        // connection after its registration goes unanswered.)
        try "\(listed.publicKey.z85) listed\n\(unlisted.publicKey.z85) late\n".write(toFile: path, atomically: true, encoding: .utf8)
        try allowList.reload()
        let (again, againMonitor) = try client(unlisted)
        defer {
            againMonitor.close()
            again.close()
        }
        try again.send([Array("from the late key".utf8)], wait: true)
        let late = try #require(try router.receive(timeoutMilliseconds: 5_000), "admitted after the reload")
        #expect(late.last == Array("from the late key".utf8))
        #expect(try router.receive(timeoutMilliseconds: 500) == nil, "the plaintext client never gets through")
    }

    @Test("a CURVE server without an allow-list is refused instead of admitting everyone")
    func serverNeedsAllowList() throws {
        let context = try ZMQContext()
        let handler = try ZAPHandler(context: context)
        defer { handler.stop() }
        let router = try Socket(context: context, kind: .router, policy: .control)
        defer { router.close() }
        #expect(throws: CurveError.self) { try CurveSecurity(keyPair: try CurveKeyPair.generate()).serve(router, domain: "x", handler: handler) }
        #expect(throws: ZMQError.self, "one handler per context") { try ZAPHandler(context: context) }
    }
}
