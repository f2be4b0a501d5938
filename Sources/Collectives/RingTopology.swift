import Messaging

/// Who is in a ring and how long a collective may wait on them: what a communicator is
/// built from. The coordinator hands one to every member of a gang.
public struct RingTopology: Sendable, Equatable {
    public let rank: Int
    /// Every member's data-plane endpoint, in rank order.
    public let endpoints: [String]
    /// Unique per ring (a gang attempt); frames carry a tag derived from it so that late
    /// frames from an earlier ring are recognised and dropped.
    public let collectiveID: String
    /// How long one collective call may wait on a peer.
    public let timeoutMilliseconds: Int
    /// Every member's CURVE public key, in rank order, when the ring is encrypted (each
    /// member's data plane is a CURVE server of its own key); empty for plaintext.
    public let curveKeys: [CurvePublicKey]

    public init(
        rank: Int, endpoints: [String], collectiveID: String, timeoutMilliseconds: Int = 30_000,
        curveKeys: [CurvePublicKey] = []
    ) {
        precondition(endpoints.indices.contains(rank), "rank \(rank) outside a ring of \(endpoints.count)")
        precondition(curveKeys.isEmpty || curveKeys.count == endpoints.count, "one CURVE key per member")
        self.rank = rank
        self.endpoints = endpoints
        self.curveKeys = curveKeys
        self.collectiveID = collectiveID
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public var worldSize: Int { endpoints.count }
    public var next: Int { (rank + 1) % worldSize }
    public var previous: Int { (rank + worldSize - 1) % worldSize }

    /// Whether every other member's endpoint can only be on this host: an ipc:// path or a
    /// loopback TCP address. The coordinator hands out ipc endpoints to co-located workers.
    public var isOnOneHost: Bool { endpoints.indices.allSatisfy(isOnThisHost) }

    /// Whether `member` can only be on this host (itself, or an ipc:// or loopback endpoint).
    public func isOnThisHost(_ member: Int) -> Bool {
        let endpoint = endpoints[member]
        return member == rank || endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("tcp://127.")
            || endpoint.hasPrefix("tcp://localhost:") || endpoint.hasPrefix("tcp://[::1]:")
    }

    /// FNV-1a of the collective id: a fixed 8-byte tag instead of a string on every frame.
    public var tag: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in collectiveID.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
