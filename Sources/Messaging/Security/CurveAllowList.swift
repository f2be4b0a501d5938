import Foundation

/// The public keys a CURVE server admits, read from a file and read again on request
/// (daemons do so on SIGHUP), shared between the daemon and its ZAP handler thread.
///
/// The file has one key per line, Z85 first and an optional name after it (the form of
/// `orrery keygen`'s `.pub` files); `#` starts a comment. A file that fails to parse on
/// reload leaves the previous list in force, so a typo cannot lock every peer out.
public final class CurveAllowList: @unchecked Sendable {
    /// The file the list comes from.
    public let path: String
    private let lock = NSLock()
    private var names: [CurvePublicKey: String]

    /// Reads `path`. - Throws: `CurveError.badFile` naming the line that is wrong.
    public init(path: String) throws(CurveError) {
        self.path = path
        names = try Self.parse(path: path)
    }

    /// Reads the file again; on an error the old list stays.
    /// - Returns: how many keys the list holds now.
    @discardableResult
    public func reload() throws(CurveError) -> Int {
        let fresh = try Self.parse(path: path)
        lock.withLock { names = fresh }
        return fresh.count
    }

    /// The name written beside `key`, or nil when it is not listed.
    public func name(of key: CurvePublicKey) -> String? { lock.withLock { names[key] } }

    public func admits(_ key: CurvePublicKey) -> Bool { name(of: key) != nil }

    public var count: Int { lock.withLock { names.count } }

    static func parse(path: String) throws(CurveError) -> [CurvePublicKey: String] {
        var names: [CurvePublicKey: String] = [:]
        for (index, line) in try CurveKeyFile.contents(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.trimmingSpaces
            if content.isEmpty || content.hasPrefix("#") { continue }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            do {
                let key = try CurvePublicKey(z85: String(fields[0]))
                names[key] = fields.count > 1 ? fields[1...].joined(separator: " ") : key.fingerprint
            } catch {
                throw .badFile(path: path, problem: "line \(index + 1): \(error)")
            }
        }
        return names
    }
}
