import Foundation

/// Where a daemon's HTTP server listens: `127.0.0.1:8265`, `[::1]:8265`, `0.0.0.0:8265`
/// (port 0 picks a free one), parsed once at the command line.
public struct HTTPBinding: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// - Throws: `HTTPBindingError` naming what is wrong with `text`.
    public init(_ text: String) throws(HTTPBindingError) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw HTTPBindingError(text, "write an IPv6 address as [ADDRESS]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw HTTPBindingError(text, "expected HOST:PORT, e.g. 127.0.0.1:8265") }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw HTTPBindingError(text, "the host is empty") }
        guard let number = Int(port), (0...65_535).contains(number) else { throw HTTPBindingError(text, "the port must be a number from 0 to 65535") }
        self.host = String(host)
        self.port = number
    }

    /// True for addresses only this machine can reach; anything else is served to the
    /// network, and should be behind an access token.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    /// `http://HOST:PORT` for the port actually bound.
    public func url(port: Int) -> String { "http://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }
}

/// A `--http` or `--metrics` address that cannot be used.
public struct HTTPBindingError: Error, CustomStringConvertible {
    public let description: String

    init(_ text: String, _ why: String) {
        description = "HTTP address '\(text.prefix(100))': \(why)"
    }
}
