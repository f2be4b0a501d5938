/// A printable name for a routing id: the text if it is readable, hex otherwise (libzmq
/// gives anonymous peers five binary bytes).
enum PeerName {
    static func describe(_ routingID: [UInt8]) -> String {
        if !routingID.isEmpty, routingID.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return String(decoding: routingID, as: UTF8.self)
        }
        return "0x" + routingID.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
