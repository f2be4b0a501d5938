import Runtime

/// A printable name for a routing id: the text, escaped, if it is UTF-8; hex otherwise
/// (libzmq gives anonymous peers five binary bytes).
enum PeerName {
    static func describe(_ routingID: [UInt8]) -> String {
        routingID.isEmpty ? "(none)" : PrintableText.escaped(bytes: routingID, limit: 80)
    }
}
