import Foundation

/// A blocking HTTP/1.1 GET over a plain socket, for what calls a daemon's HTTP server from
/// outside it (tests, `orrery bench dispatch --http` playing an open dashboard): one request
/// per connection (`Connection: close`), the whole answer read to the end.
public enum HTTPGet {
    public struct Answer: Sendable {
        public let status: Int
        /// Header names in lower case.
        public let headers: [String: String]
        public let body: String
    }

    /// GETs `url` (`http://HOST:PORT/PATH?QUERY`).
    /// - Throws: `HTTPGetError` when the URL is not one, the server cannot be reached
    ///   within `timeoutSeconds`, or the answer is not HTTP.
    public static func get(_ url: String, headers: [String: String] = [:], timeoutSeconds: Int = 10) throws -> Answer {
        guard let parsed = URLComponents(string: url), let host = parsed.host, let port = parsed.port else {
            throw HTTPGetError("not an http://HOST:PORT URL: \(url)")
        }
        let target = (parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath) + (parsed.percentEncodedQuery.map { "?" + $0 } ?? "")
        let descriptor = try connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        defer { close(descriptor) }
        var request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw HTTPGetError("cannot send to \(url): \(String(cString: strerror(errno)))")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return try parse(received, url: url)
    }

    /// Sends `bytes` as they are (a malformed request, say) and returns what came back
    /// before the server closed the connection or `timeoutSeconds` passed.
    public static func raw(_ bytes: [UInt8], host: String, port: Int, timeoutSeconds: Int = 5) throws -> String {
        let descriptor = try connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        defer { close(descriptor) }
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(descriptor, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    private static func connect(host: String, port: Int, timeoutSeconds: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw HTTPGetError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { throw HTTPGetError("socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let why = String(cString: strerror(errno))
            close(descriptor)
            throw HTTPGetError("cannot connect to \(host):\(port): \(why)")
        }
        return descriptor
    }

    private static func parse(_ bytes: [UInt8], url: String) throws -> Answer {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HTTPGetError("no HTTP answer from \(url): \(text.prefix(200))") }
        let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPGetError("bad status line from \(url): \(head.first ?? "")") }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Answer(status: status, headers: headers, body: body)
    }

    /// The body of a chunked answer.
    private static func dechunk(_ text: String) -> String {
        var bytes = Substring(text)
        var out = ""
        while let end = bytes.range(of: "\r\n"), let size = Int(bytes[..<end.lowerBound].split(separator: ";").first ?? "", radix: 16), size > 0 {
            let start = end.upperBound
            let utf8 = bytes[start...].utf8
            let stop = utf8.index(utf8.startIndex, offsetBy: min(size, utf8.count))
            out += String(Substring(utf8[..<stop]))
            bytes = bytes[stop...].dropFirst(2)
        }
        return out
    }
}

/// Why an HTTP GET got no answer.
public struct HTTPGetError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
