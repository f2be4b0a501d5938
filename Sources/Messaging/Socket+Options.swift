import CZeroMQ

extension Socket {
    func setOption(_ option: Int32, _ value: Int32, name: String) throws(ZMQError) {
        var value = value
        try ZMQCall.retryingOnInterrupt("zmq_setsockopt(\(name))") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size)
        }
    }

    func setOption(_ option: Int32, int64 value: Int64, name: String) throws(ZMQError) {
        var value = value
        try ZMQCall.retryingOnInterrupt("zmq_setsockopt(\(name))") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size)
        }
    }

    func setOption(_ option: Int32, bytes: [UInt8], name: String) throws(ZMQError) {
        try ZMQCall.retryingOnInterrupt("zmq_setsockopt(\(name))") {
            bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        }
    }

    func getString(_ option: Int32, name: String) throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        try ZMQCall.retryingOnInterrupt("zmq_getsockopt(\(name))") {
            zmq_getsockopt(handle, option, &buffer, &size)
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The routing id this socket presents to a ROUTER peer. Set it before `connect`.
    public func setRoutingID(_ id: String) throws(ZMQError) {
        try setOption(ZMQ_ROUTING_ID, bytes: Array(id.utf8), name: "ZMQ_ROUTING_ID")
    }

    /// How long unsent messages are kept after `close` (0: dropped at once).
    public func setLinger(milliseconds: Int32) throws(ZMQError) {
        try setOption(ZMQ_LINGER, milliseconds, name: "ZMQ_LINGER")
    }

    /// ROUTER: fail a send to an unknown peer with EHOSTUNREACH instead of dropping it.
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, on ? 1 : 0, name: "ZMQ_ROUTER_MANDATORY")
    }

    /// ROUTER: a new connection with a routing id already in use takes it over, so a worker
    /// that reconnects after a network cut is reachable again at once.
    public func setRouterHandover(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_HANDOVER, on ? 1 : 0, name: "ZMQ_ROUTER_HANDOVER")
    }

    /// Queue messages only to completed connections, so nothing waits on a peer that is not there.
    public func setImmediate(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_IMMEDIATE, on ? 1 : 0, name: "ZMQ_IMMEDIATE")
    }

    /// How fast libzmq itself retries a lost TCP connection (initial and maximum interval).
    public func setReconnectInterval(milliseconds: Int32, maximumMilliseconds: Int32) throws(ZMQError) {
        try setOption(ZMQ_RECONNECT_IVL, milliseconds, name: "ZMQ_RECONNECT_IVL")
        try setOption(ZMQ_RECONNECT_IVL_MAX, maximumMilliseconds, name: "ZMQ_RECONNECT_IVL_MAX")
    }

    /// The endpoint actually bound, e.g. the port chosen for `tcp://127.0.0.1:*`.
    public func lastEndpoint() throws(ZMQError) -> String {
        try getString(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT")
    }
}
