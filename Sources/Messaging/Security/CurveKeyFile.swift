import Foundation

/// Key files as `orrery keygen` writes them and every daemon reads them.
///
/// - `NAME.key`, mode 0600: `public-key = Z85` and `secret-key = Z85` lines. A daemon
///   refuses a secret key file that anyone but its owner may read or write.
/// - `NAME.pub`: one line, `Z85 NAME`, the form an allow-list takes, so that an allow-list
///   is the `.pub` files of the peers it admits put together (`cat *.pub > allow`).
public enum CurveKeyFile {
    /// Writes `NAME.key` (created 0600 before any secret goes in) and `NAME.pub`.
    ///
    /// - Throws: `CurveError.badFile` naming the file that exists already or cannot be written.
    public static func write(_ pair: CurveKeyPair, name: String, directory: String, overwrite: Bool = false) throws(CurveError) {
        let base = (directory as NSString).appendingPathComponent(name)
        let secretPath = base + ".key", publicPath = base + ".pub"
        let secretText = """
            # Orrery CURVE key pair of \(name): keep this file private (mode 0600).
            public-key = \(pair.publicKey.z85)
            secret-key = \(pair.secretZ85)

            """
        try create(secretPath, contents: secretText, mode: 0o600, overwrite: overwrite)
        try create(publicPath, contents: "\(pair.publicKey.z85) \(name)\n", mode: 0o644, overwrite: overwrite)
    }

    /// Reads a secret key file, refusing one that others may read or write.
    public static func readKeyPair(path: String) throws(CurveError) -> CurveKeyPair {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .badFile(path: path, problem: "cannot read the secret key file: \(String(cString: strerror(errno)))") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw .badFile(path: path, problem: "the secret key file is open to others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        let fields = try keyValues(path: path)
        guard let secret = fields["secret-key"] else { throw .badFile(path: path, problem: "no 'secret-key = …' line") }
        let pair: CurveKeyPair
        do { pair = try CurveKeyPair(secretZ85: secret) } catch { throw .badFile(path: path, problem: "secret-key: \(error)") }
        if let stated = fields["public-key"], stated != pair.publicKey.z85 {
            throw .badFile(path: path, problem: "its public-key is not the public half of its secret-key")
        }
        return pair
    }

    /// A public key given as Z85 text or as a file holding one (a `.pub` file, or a line
    /// `public-key = Z85`).
    public static func readPublicKey(_ argument: String) throws(CurveError) -> CurvePublicKey {
        if argument.utf8.count == 40, let key = try? CurvePublicKey(z85: argument) { return key }
        let text = try contents(argument)
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.trimmingSpaces
            if content.isEmpty || content.hasPrefix("#") { continue }
            let token: Substring
            if content.hasPrefix("public-key"), let equals = content.firstIndex(of: "=") {
                token = Substring(content[content.index(after: equals)...].trimmingSpaces)
            } else if content.hasPrefix("secret-key") {
                continue
            } else {
                token = content.split(separator: " ").first ?? ""
            }
            do { return try CurvePublicKey(z85: String(token)) } catch { throw .badFile(path: argument, problem: "\(error)") }
        }
        throw .badFile(path: argument, problem: "holds no public key")
    }

    static func contents(_ path: String) throws(CurveError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badFile(path: path, problem: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        guard data.count <= 1 << 20 else { throw .badFile(path: path, problem: "larger than 1 MiB: not a key file") }
        return String(decoding: data, as: UTF8.self)
    }

    private static func keyValues(path: String) throws(CurveError) -> [String: String] {
        var fields: [String: String] = [:]
        for line in try contents(path).split(whereSeparator: \.isNewline) {
            let content = line.trimmingSpaces
            guard !content.isEmpty, !content.hasPrefix("#"), let equals = content.firstIndex(of: "=") else { continue }
            fields[content[..<equals].trimmingSpaces] = content[content.index(after: equals)...].trimmingSpaces
        }
        return fields
    }

    private static func create(_ path: String, contents: String, mode: mode_t, overwrite: Bool) throws(CurveError) {
        let flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, mode)
        guard fd >= 0 else {
            let problem = errno == EEXIST ? "exists already (remove it, or pass --force)" : String(cString: strerror(errno))
            throw .badFile(path: path, problem: problem)
        }
        defer { close(fd) }
        // An existing file kept its old mode under O_TRUNC: set it before writing the secret.
        guard fchmod(fd, mode) == 0 else { throw .badFile(path: path, problem: "cannot set its mode: \(String(cString: strerror(errno)))") }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw .badFile(path: path, problem: "could not be written completely") }
    }
}
