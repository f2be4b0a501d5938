import CZeroMQ

extension Socket {
    /// Makes this socket a CURVE server with `pair`: every connection is encrypted and
    /// authenticated, and the ZAP handler decides from `domain`'s allow-list who may
    /// connect. Call before `bind`; the context's `ZAPHandler` must already be running.
    public func makeCurveServer(_ pair: CurveKeyPair, domain: String) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, 1, name: "ZMQ_CURVE_SERVER")
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: pair.secretBytes, name: "ZMQ_CURVE_SECRETKEY")
        try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8), name: "ZMQ_ZAP_DOMAIN")
    }

    /// Makes this socket a CURVE client of the server whose public key is `server`, proving
    /// itself with `pair`. Call before `connect`.
    public func makeCurveClient(_ pair: CurveKeyPair, server: CurvePublicKey) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: server.bytes, name: "ZMQ_CURVE_SERVERKEY")
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: pair.publicKey.bytes, name: "ZMQ_CURVE_PUBLICKEY")
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: pair.secretBytes, name: "ZMQ_CURVE_SECRETKEY")
    }
}
