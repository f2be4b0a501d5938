/// What one process needs to speak CURVE: its own key pair, the public key of the server it
/// connects to (a worker's or client's coordinator), and the allow-list its own server
/// sockets admit from (the coordinator's workers and clients; a worker's gang peers).
///
/// Optional everywhere it is held: nil means plaintext, as on one host.
public struct CurveSecurity: Sendable {
    public var keyPair: CurveKeyPair
    /// The coordinator's public key, for processes that connect to it.
    public var serverKey: CurvePublicKey?
    /// Who may connect to this process's server sockets.
    public var allowList: CurveAllowList?

    public init(keyPair: CurveKeyPair, serverKey: CurvePublicKey? = nil, allowList: CurveAllowList? = nil) {
        self.keyPair = keyPair
        self.serverKey = serverKey
        self.allowList = allowList
    }

    /// ZAP domains: which allow-list a server socket is checked against.
    public enum Domain {
        public static let control = "orrery-control"
        public static let data = "orrery-data"
    }

    /// Makes `socket` a CURVE server of `domain`, starting `handler` on `allowList` first.
    /// - Throws: `CurveError.unavailable` when the process has no allow-list to admit from
    ///   (a CURVE server that admits everyone would be worse than a clear refusal to start).
    public func serve(_ socket: Socket, domain: String, handler: ZAPHandler) throws {
        guard let allowList else {
            throw CurveError.unavailable("a CURVE server needs an allow-list of the public keys it admits (--curve-allow)")
        }
        handler.admit(domain: domain, allowList: allowList)
        try socket.makeCurveServer(keyPair, domain: domain)
    }

    /// Makes `socket` a CURVE client of the coordinator.
    public func connectToCoordinator(_ socket: Socket) throws {
        guard let serverKey else {
            throw CurveError.unavailable("a CURVE client needs the coordinator's public key (--curve-coordinator-key)")
        }
        try socket.makeCurveClient(keyPair, server: serverKey)
    }
}
